import { createRequire } from "node:module";
import type { FastifyBaseLogger } from "fastify";
import type { ServerOptions } from "ws";

/** The WebSocket class a ws server makes its sockets with. */
type WebSocketClass = NonNullable<ServerOptions["WebSocket"]>;

/** What the browser reads when FAMOS's side of a proxied WebSocket failed (the detail is in the log). */
export const APPLICATION_FAILED_REASON = "the application is not available";

/** RFC 6455 §7.4.1: 1011, an unexpected condition; the proxy closes with it when a side fails. */
const INTERNAL_ERROR_CODE = 1011;

/**
 * The error message in a close the proxy makes when a side of the WebSocket failed (@fastify/http-proxy
 * closes with 1011 and `error.message`, or "unexpected response", as a string), or null for any other
 * close: the application's own close frame (its reason comes as bytes), or FAMOS's (4401, 1009, 1001).
 */
export function proxiedWebSocketFailure(code: number | undefined, reason: string | Buffer | undefined): string | null {
  return code === INTERNAL_ERROR_CODE && typeof reason === "string" ? reason : null;
}

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
 * That message is FAMOS's side of the proxy speaking (an address refused, a certificate's names, a
 * timeout), as the proxy gives it: a string with 1011, where the application's own close frames come
 * as bytes. It goes to the log at warn (proxiedWebSocketFailure), and the browser gets
 * APPLICATION_FAILED_REASON: the application's internal addresses and host names are not the browser's
 * to read (ASVS 7.4.1, as the 502 page keeps them out).
 * It reads nothing until relayMessages takes over (websocket-bounds.ts), and reads again when closed.
 */
export function browserWebSocketClass(logger: Pick<FastifyBaseLogger, "warn">): WebSocketClass {
  // The ws that @fastify/http-proxy loads: its server takes only a class that extends that one's.
  const require = createRequire(import.meta.url);
  const ws = createRequire(require.resolve("@fastify/http-proxy"))("ws") as WebSocketClass;
  return class BrowserWebSocket extends ws {
    /** The upgrade request's socket, which names the session the handshake passed for (websocket-sessions.ts). */
    upgradeSocket: object | undefined;

    override close(code?: number, reason?: string | Buffer): void {
      // Read again, whatever paused it: the browser's answer to the close frame must come through.
      this.resume();
      const failure = proxiedWebSocketFailure(code, reason);
      if (failure !== null) logger.warn({ detail: failure }, "a proxied WebSocket failed; the browser's side is closed with 1011");
      super.close(code, failure !== null ? APPLICATION_FAILED_REASON : reason === undefined ? undefined : fittedCloseReason(reason));
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
