import type { FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { floodReport } from "../platform/flood-report.ts";
import { signedIn } from "./auth.ts";
import { HttpProblem } from "./errors.ts";
import { identityKey } from "./upstream-headers.ts";

/**
 * The close code both sides of a proxied WebSocket get when its session ends. RFC 6455 §7.4.2 leaves
 * 4000–4999 to applications; 4401 mirrors HTTP 401 as graphql-ws and others use it, so the page's
 * script can tell "sign in again" from a fault and need not retry in a loop (a new handshake would be
 * sent to sign in anyway). 1008 (policy violation) would say the peer broke a rule; nobody did.
 */
export const SESSION_ENDED_CODE = 4401;
export const SESSION_ENDED_REASON = "session ended";

/** ws's readyState of an open socket. */
const OPEN = 1;
/** RFC 6455 §7.4.1: 1001, an endpoint going away (here the browser, on the application's side). */
const GOING_AWAY_CODE = 1001;

/**
 * How many proxied WebSockets one session may have, open or in their handshake (allowed by FAMOS, not
 * yet answered by the application). Each holds up to about WEBSOCKET_HIGH_WATER_BYTES, one message and
 * one read (64 KiB) each way (websocket-bounds.ts), so without a cap one signed-in user, or a script with a stolen
 * session cookie, opening thousands held the whole process's memory. A point-of-sale page opens one or
 * a few, per tab: 16 leaves room for several tabs of such pages and bounds a session to about 16 × 2 ×
 * (1 MiB + 2 messages + 64 KiB), some 100 MiB at the default FAMOS_WEBSOCKET_MAX_MESSAGE. A constant: it
 * bounds FAMOS's memory, not anything the application's protocol decides.
 */
export const WEBSOCKETS_PER_SESSION = 16;

/**
 * Retry-After of the 429 for a handshake past the cap. No time frees a place (a socket that closes
 * does), so it is a pace for clients that retry in a loop, not a promise: one refusal per such while.
 */
export const WEBSOCKET_REFUSED_RETRY_AFTER_SECONDS = 10;

/** One side of a proxied WebSocket, as ws gives it (the browser's is a BrowserWebSocket, proxied-websocket.ts). */
export interface Side {
  close(code?: number, reason?: string): void;
  /** Bytes sent to this side that FAMOS still holds (ws's queue and the connection's write buffer). */
  readonly bufferedAmount: number;
  /** ws's state: 1 while open. */
  readonly readyState: number;
  once(event: "close", listener: () => void): unknown;
}

interface Channel {
  browser: Side;
  application: Side;
  loginId: string;
  /** The identity headers its handshake carried (identityKey): the application took the channel as theirs. */
  identity: string;
}

/** A pair the application accepted for a known session: open and tied to it, or closed as its browser had left. */
export interface Accepted {
  sessionId: string;
  loginId: string;
  open: boolean;
}

/**
 * The proxied WebSockets of this instance by the session their handshake passed for: those in their
 * handshake and those open, each session's counted against WEBSOCKETS_PER_SESSION. It reads nothing
 * and decides no session's end: websocket-sessions.ts says which sessions ended.
 */
export interface WebSocketRegistry {
  /**
   * A WebSocket handshake let through for this request's full session (its upgrade socket names it
   * until the application answers), and counted as in progress until then or until that socket closes.
   * Throws a 429 HttpProblem when the session has WEBSOCKETS_PER_SESSION open or in progress already.
   */
  allow(request: FastifyRequest): void;
  /**
   * The application answered the handshake on this upgrade socket: the pair is tied to the session that
   * asked for it. Null when no session is known for it (the pair is closed).
   */
  connected(upgradeSocket: object | undefined, browser: Side, application: Side): Accepted | null;
  /** Closes both sides of the session's open channels (SESSION_ENDED_CODE) and forgets them: whose, and how many; null when none was open. */
  closeSession(sessionId: string): { loginId: string; sockets: number } | null;
  /** The sessions with an open channel. */
  sessionIds(): string[];
  /** The identities (identityKey) the session's open channels were opened with: none when it has none open. */
  identities(sessionId: string): string[];
  /** What the open channels hold, taken from one side and not yet written to the other's connection (tests). */
  buffered(): { towardBrowsers: number; towardApplication: number };
  /** Open channels (tests, and whether a recheck has anything to read). */
  readonly size: number;
  /** Handshakes allowed and not yet answered by the application, nor given up (tests). */
  readonly handshaking: number;
  /** Tells the refusals not yet told (the app's close). */
  close(): void;
}

export function webSocketRegistry(deps: Pick<Deps, "logger" | "metrics">): WebSocketRegistry {
  /** Upgrade sockets whose handshake passed, with the session it passed for. */
  const allowed = new WeakMap<object, { sessionId: string; loginId: string; identity: string }>();
  const bySession = new Map<string, Set<Channel>>();
  /** The upgrade sockets of handshakes in progress, by session: what the cap counts with the open channels. */
  const inProgress = new Map<string, Set<object>>();
  let size = 0;
  let handshaking = 0;
  const refusals = floodReport((refused) =>
    deps.logger.warn({ refused, limit: WEBSOCKETS_PER_SESSION }, "proxied WebSocket handshakes refused: their session had as many open as one may"),
  );

  /** The handshake on this upgrade socket is over (answered, failed, or its browser gone): once only. */
  const settle = (sessionId: string, upgradeSocket: object) => {
    const sockets = inProgress.get(sessionId);
    if (!sockets?.delete(upgradeSocket)) return;
    handshaking -= 1;
    if (sockets.size === 0) inProgress.delete(sessionId);
  };

  const forget = (sessionId: string, channel: Channel) => {
    const channels = bySession.get(sessionId);
    if (!channels?.delete(channel)) return;
    size -= 1;
    if (channels.size === 0) bySession.delete(sessionId);
  };

  return {
    allow(request) {
      const { session, user } = signedIn(request);
      const socket = request.raw.socket;
      // An Upgrade header on a plain request (no `Connection: upgrade`) is forwarded as HTTP; a socket
      // gone already says no more: neither has a handshake to count or to wait for.
      if ((request.raw as { upgrade?: boolean }).upgrade !== true || socket.destroyed) return;
      const sockets = inProgress.get(session.id);
      if (sockets?.has(socket)) return;
      if ((bySession.get(session.id)?.size ?? 0) + (sockets?.size ?? 0) >= WEBSOCKETS_PER_SESSION) {
        deps.metrics.webSocketsRefused.inc();
        refusals.add();
        throw new HttpProblem(
          429,
          "Too many live connections are open for this sign-in. Close a tab of the application and try again.",
          WEBSOCKET_REFUSED_RETRY_AFTER_SECONDS,
        );
      }
      allowed.set(socket, { sessionId: session.id, loginId: user.login_id, identity: identityKey(user) });
      if (sockets) sockets.add(socket);
      else inProgress.set(session.id, new Set([socket]));
      handshaking += 1;
      // Whatever ends the handshake without an answer (the application refuses or never answers and
      // the proxy closes the browser's side, the browser leaves, FAMOS's own answer to the upgrade)
      // ends this connection: its place is free then.
      socket.once("close", () => settle(session.id, socket));
    },
    connected(upgradeSocket, browser, application) {
      const owner = upgradeSocket === undefined ? undefined : allowed.get(upgradeSocket);
      if (owner) settle(owner.sessionId, upgradeSocket!);
      if (!owner) {
        // A channel no session is known for has no business staying open.
        closeSide(browser);
        closeSide(application);
        return null;
      }
      if (browser.readyState !== OPEN) {
        // The browser left while the application was answering: the proxy closed nothing on the
        // application's side then (it was not open), and no close of the browser's is to come.
        closeSide(application, GOING_AWAY_CODE, "the browser left");
        return { sessionId: owner.sessionId, loginId: owner.loginId, open: false };
      }
      const channel: Channel = { browser, application, loginId: owner.loginId, identity: owner.identity };
      let channels = bySession.get(owner.sessionId);
      if (!channels) bySession.set(owner.sessionId, (channels = new Set()));
      channels.add(channel);
      size += 1;
      browser.once("close", () => forget(owner.sessionId, channel));
      return { sessionId: owner.sessionId, loginId: owner.loginId, open: true };
    },
    closeSession(sessionId) {
      const channels = bySession.get(sessionId);
      if (!channels) return null;
      const closing = [...channels];
      for (const channel of closing) {
        forget(sessionId, channel);
        closeSide(channel.browser);
        closeSide(channel.application);
      }
      return { loginId: closing[0]!.loginId, sockets: closing.length };
    },
    sessionIds: () => [...bySession.keys()],
    identities: (sessionId) => [...(bySession.get(sessionId) ?? [])].map((channel) => channel.identity),
    buffered() {
      const held = { towardBrowsers: 0, towardApplication: 0 };
      for (const channels of bySession.values()) {
        for (const { browser, application } of channels) {
          held.towardBrowsers += browser.bufferedAmount;
          held.towardApplication += application.bufferedAmount;
        }
      }
      return held;
    },
    get size() {
      return size;
    },
    get handshaking() {
      return handshaking;
    },
    close: () => refusals.close(),
  };
}

/**
 * Closes one side, whatever state it is in: closing or closed already is a no-op in ws, and a peer
 * that ignores the close frame is cut by ws after its close timeout. Nothing flows meanwhile: ws
 * sends nothing on a socket that is closing, so neither side's messages reach the other.
 */
function closeSide(side: Side, code = SESSION_ENDED_CODE, reason = SESSION_ENDED_REASON): void {
  try {
    side.close(code, reason);
  } catch (error) {
    // ws throws in no state here (one still connecting reports an error event, which the proxy
    // handles); should a later ws throw, it must not end the process from a timer.
    void error;
  }
}
