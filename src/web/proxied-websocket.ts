import { createRequire } from "node:module";
import type { ServerOptions } from "ws";

/** The WebSocket class a ws server makes its sockets with. */
type WebSocketClass = NonNullable<ServerOptions["WebSocket"]>;

/** RFC 6455 §5.5: a control frame carries at most 125 bytes, and a close frame's first 2 are its code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A close reason cut to what a close frame can carry, at a UTF-8 character's start (RFC 6455 §5.5.1:
 * the reason is UTF-8).
 */
export function fittedCloseReason(reason: string | Buffer): string | Buffer {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  let end = MAX_CLOSE_REASON_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString("utf8");
}

/**
 * The class of the browser's side of a WebSocket the proxy forwards to the protected application
 * (ws's `WebSocket` option of its server). @fastify/http-proxy closes the browser's side with the
 * application side's error message as the reason, and ws throws a RangeError for a reason past 123
 * bytes: in that error handler, outside any request, the exception ended the process. Node's message
 * for a certificate whose names are not the upstream's host lists every name in it, so an application
 * (or whoever answers at its address) with such a certificate ended `famos serve` at each WebSocket.
 * Here every close reason is cut to fit first.
 * It reads nothing until relayMessages takes over (websocket-bounds.ts), and reads again when closed.
 */
export function browserWebSocketClass(): WebSocketClass {
  // The ws that @fastify/http-proxy loads: its server takes only a class that extends that one's.
  const require = createRequire(import.meta.url);
  const ws = createRequire(require.resolve("@fastify/http-proxy"))("ws") as WebSocketClass;
  return class BrowserWebSocket extends ws {
    /** The upgrade request's socket, which names the session the handshake passed for (websocket-sessions.ts). */
    upgradeSocket: object | undefined;

    override close(code?: number, reason?: string | Buffer): void {
      // Read again, whatever paused it: the browser's answer to the close frame must come through.
      this.resume();
      super.close(code, reason === undefined ? undefined : fittedCloseReason(reason));
    }

    // ws's server hands each accepted connection's socket to its WebSocket here (not in its types).
    setSocket(socket: object, ...rest: unknown[]): void {
      this.upgradeSocket = socket;
      (ws.prototype as unknown as { setSocket: (...args: unknown[]) => void }).setSocket.call(this, socket, ...rest);
      // Nothing is read from the browser until the application's side is open and relayMessages
      // (websocket-bounds.ts) resumes it: meanwhile the proxy would queue every message in memory.
      this.pause();
    }
  };
}
