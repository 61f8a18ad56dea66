import type { RawData, WebSocket } from "ws";

/**
 * How much FAMOS holds toward one side of a proxied WebSocket before it stops reading from the other.
 * A constant: it bounds FAMOS's memory per socket (with FAMOS_WEBSOCKET_MAX_MESSAGE, at most one
 * message past it and the rest of the connection's last read: WEBSOCKET_READ_BYTES), not anything an
 * application's protocol decides, and 1 MiB keeps a fast link busy.
 */
export const WEBSOCKET_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * What one read from a connection brings at most (Node's stream reads, 64 KiB). Pausing a WebSocket
 * stops further reads, but ws still parses the rest of the last one, which may complete more
 * messages: FAMOS holds at most the high-water mark, one message past it, and this.
 */
export const WEBSOCKET_READ_BYTES = 64 * 1024;

/** RFC 6455 §7.4.1: 1009, a message too big to process. ws closes the side that sent it so; FAMOS the other. */
export const MESSAGE_TOO_BIG_CODE = 1009;
export const MESSAGE_TOO_BIG_REASON = "message too big";

/** ws's error for a message past its maxPayload (the side that sent it is closed with 1009 already). */
const TOO_BIG = "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";

export type WebSocketSide = "browser" | "application";

/**
 * Forwards a proxied WebSocket's messages both ways within FAMOS's bounds (pipeMessages), in place of
 * @fastify/http-proxy's own forwarding, which sends each message on at once whatever the receiver has
 * yet to take. Called from the proxy's onConnect, once the application's side is open: the proxy's
 * close, error, ping and pong wiring stays as it is.
 */
export function relayMessages(browser: WebSocket, application: WebSocket, tooBig: (from: WebSocketSide) => void): void {
  pipeMessages(browser, application, () => tooBig("browser"));
  pipeMessages(application, browser, () => tooBig("application"));
}

/**
 * Sends each message `from` receives on to `to`, and stops reading from `from` while FAMOS holds more
 * than WEBSOCKET_HIGH_WATER_BYTES sent to `to` and not yet written to its connection: a slow reader
 * (an application that stalls, a browser on a slow link) makes a fast sender wait in its own buffers
 * and the kernel's, not in FAMOS's memory. Reading resumes as the writes complete.
 * A message from `from` over the maximum (ws's maxPayload) closes `to` too, with 1009.
 */
function pipeMessages(from: WebSocket, to: WebSocket, tooBig: () => void): void {
  // The proxy's listener is the only one for messages: it forwards without looking at the receiver.
  from.removeAllListeners("message");
  let held = 0;
  from.on("message", (data: RawData, isBinary: boolean) => {
    // Closing: nothing more goes through (ws would refuse the send anyway).
    if (to.readyState !== to.OPEN) return;
    const bytes = byteLength(data);
    held += bytes;
    to.send(data, { binary: isBinary }, () => {
      held -= bytes;
      if (held <= WEBSOCKET_HIGH_WATER_BYTES && from.isPaused) from.resume();
    });
    if (held > WEBSOCKET_HIGH_WATER_BYTES) from.pause();
  });
  // Once the receiver is gone nothing is held for it, and the sender's closing handshake must be read.
  to.once("close", () => from.resume());
  // Before the proxy's listener, which would close the other side with 1011 and ws's message.
  from.prependListener("error", (error: Error & { code?: string }) => {
    if (error.code !== TOO_BIG) return;
    to.close(MESSAGE_TOO_BIG_CODE, MESSAGE_TOO_BIG_REASON);
    tooBig();
  });
  // The browser's side reads nothing until its messages have somewhere to go (BrowserWebSocket).
  from.resume();
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}
