import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { floodReport } from "../platform/flood-report.ts";
import { lapsedFullSessions } from "../session/lapsed-sessions.ts";
import { failureDetail } from "./after-commit.ts";
import { signedIn } from "./auth.ts";
import { HttpProblem } from "./errors.ts";

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
 * How often the open sockets' sessions are read again: sessions ended by another instance or by a
 * command (`famos user disable`, a direct UPDATE), idle or past their lifetime, are caught within this.
 * A constant: one indexed read per interval per instance, whatever the number of sockets, costs little,
 * and ASVS 3.3 asks for termination, not for a knob; a shorter bound is the operator's ask to make.
 */
export const WEBSOCKET_RECHECK_MS = 30_000;

/**
 * The reads that follow FAMOS's own state-changing requests come at most this often: one at once, then
 * one at the end of each such while for every request meanwhile. Every sign-in's posts are such
 * requests, and each read covers every open socket's session (hundreds of ids on a busy instance), so
 * one read per post took the event loop from the sign-ins whenever many sockets were open (31 reads in
 * under a second of 30 sign-in attempts, before). A session ended by a request closes its sockets
 * within this.
 */
export const AFTER_REQUEST_READ_EVERY_MS = 1000;

/**
 * How many proxied WebSockets one session may have, open or in their handshake (allowed by FAMOS, not
 * yet answered by the application). Each holds up to about WEBSOCKET_HIGH_WATER_BYTES and one message
 * each way (websocket-bounds.ts), so without a cap one signed-in user, or a script with a stolen
 * session cookie, opening thousands held the whole process's memory. A point-of-sale page opens one or
 * a few, per tab: 16 leaves room for several tabs of such pages and bounds a session to about 16 × 2 ×
 * (1 MiB + 2 messages), some 100 MiB at the default FAMOS_WEBSOCKET_MAX_MESSAGE. A constant: it
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
}

export interface ProxiedWebSockets {
  /**
   * A WebSocket handshake let through for this request's full session (its upgrade socket names it
   * until the application answers), and counted as in progress until then or until that socket closes.
   * Throws a 429 HttpProblem when the session has WEBSOCKETS_PER_SESSION open or in progress already.
   */
  allow(request: FastifyRequest): void;
  /**
   * @fastify/http-proxy's onConnect: the application answered; the pair is tied to the session that
   * asked for it. The login ID of that session, or null when none is known (the pair is closed).
   */
  connected(upgradeSocket: object | undefined, browser: Side, application: Side): string | null;
  /** Closes the channels whose sessions no longer carry a full sign-in (one read for all); how many closed. */
  recheck(): Promise<number>;
  /** What the open channels hold, taken from one side and not yet written to the other's connection (tests). */
  buffered(): { towardBrowsers: number; towardApplication: number };
  /** Open channels (tests, and whether a recheck has anything to read). */
  readonly size: number;
  /** Handshakes allowed and not yet answered by the application, nor given up (tests). */
  readonly handshaking: number;
  /** Reads of the open channels' sessions so far, by the hooks and the timer (not the one on each acceptance): what they cost the database (tests). */
  readonly reads: number;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Reverse-proxy mode: the open proxied WebSockets, by session (see registerProxiedWebSockets). */
    proxiedWebSockets: ProxiedWebSockets;
  }
}

/**
 * ASVS 3.3.1/3.3.2: ending a session ends all the access it granted, a live channel into the protected
 * application too. Each proxied WebSocket is tied to the session that opened it and closed on both
 * sides (SESSION_ENDED_CODE) once that session no longer carries a full sign-in of an active user
 * (lapsedFullSessions, loadSignedIn's rule). When:
 * - after any state-changing request of this instance has been answered (after its commit), at once
 *   or within AFTER_REQUEST_READ_EVERY_MS: sign-out, Profile's "End", a password or address change, the
 *   console's reset, disable and the rest all end sessions in such a request, and no flow has to
 *   remember to say so;
 * - every WEBSOCKET_RECHECK_MS, for what this instance cannot see: another instance, a command, the
 *   clock (idle is measured by the user's HTTP requests; the socket does not touch its session, so a
 *   tab left open on a shared PC lapses too);
 * - when the application accepts, that one session once more: it may have ended since the handshake's
 *   check, when no read covered the channel yet (one read per accepted WebSocket, none per message).
 * A failed read is logged and tried again at the next occasion; the channels stay until a read says.
 */
export function registerProxiedWebSockets(app: FastifyInstance, deps: Deps, recheckEveryMs = WEBSOCKET_RECHECK_MS): ProxiedWebSockets {
  /** Upgrade sockets whose handshake passed, with the session it passed for. */
  const allowed = new WeakMap<object, { sessionId: string; loginId: string }>();
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
  let reads = 0;

  const forget = (sessionId: string, channel: Channel) => {
    const channels = bySession.get(sessionId);
    if (!channels?.delete(channel)) return;
    size -= 1;
    if (channels.size === 0) bySession.delete(sessionId);
  };

  const closeSession = (sessionId: string, reason: string) => {
    const channels = bySession.get(sessionId);
    if (!channels) return 0;
    const closing = [...channels];
    for (const channel of closing) {
      forget(sessionId, channel);
      closeSide(channel.browser);
      closeSide(channel.application);
    }
    deps.metrics.webSocketsClosed.inc({ reason }, closing.length);
    deps.logger.info({ session: sessionId.slice(0, 8), loginId: closing[0]!.loginId, reason, sockets: closing.length }, "proxied WebSocket closed: its session ended");
    return closing.length;
  };

  /** Reads these sessions and closes the channels of those that lapsed; how many closed. Never rejects. */
  const closeLapsed = async (sessionIds: string[]): Promise<number> => {
    let lapsed: Map<string, string>;
    try {
      lapsed = await lapsedFullSessions(deps.db, sessionIds, deps.clock.now(), deps.config.session);
    } catch (error) {
      deps.logger.warn(failureDetail("WebSocket session recheck", error), "could not read the sessions of open WebSockets; tried again later");
      return 0;
    }
    let closed = 0;
    for (const [sessionId, reason] of lapsed) closed += closeSession(sessionId, reason);
    return closed;
  };

  const readAndClose = async (): Promise<number> => {
    if (bySession.size === 0) return 0;
    reads += 1;
    return closeLapsed([...bySession.keys()]);
  };

  // The reads on acceptance (see connected) in flight: the app's close waits for them.
  const accepting = new Set<Promise<number>>();
  const readOnAccept = (sessionId: string) => {
    const read = closeLapsed([sessionId])
      .catch(recheckFailed)
      .finally(() => accepting.delete(read));
    accepting.add(read);
  };
  /** What no read may do: reject where nobody is there to be told (a timer, a hook, the proxy's onConnect). */
  const recheckFailed = (error: unknown) => {
    deps.logger.error({ err: error }, "WebSocket session recheck failed");
    return 0;
  };

  // One read at a time; asks that come while one runs share the next one, which starts after it. It
  // never rejects: a timer and a hook start it, and nobody is there to be told.
  let running: Promise<number> = Promise.resolve(0);
  let next: Promise<number> | null = null;
  const recheck = (): Promise<number> => {
    if (next) return next;
    const run = running
      .then(() => {
        next = null;
        return readAndClose();
      })
      .catch(recheckFailed);
    next = run;
    running = run;
    return run;
  };

  const sockets: ProxiedWebSockets = {
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
      allowed.set(socket, { sessionId: session.id, loginId: user.login_id });
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
        return owner.loginId;
      }
      const channel: Channel = { browser, application, loginId: owner.loginId };
      let channels = bySession.get(owner.sessionId);
      if (!channels) bySession.set(owner.sessionId, (channels = new Set()));
      channels.add(channel);
      size += 1;
      browser.once("close", () => forget(owner.sessionId, channel));
      // The session was read when the handshake passed, and the application took its time to accept:
      // a session ended meanwhile (sign-out on a shared PC while a page's socket connects) was in no
      // read since, as its channel was not open yet, and would stay open until WEBSOCKET_RECHECK_MS.
      // One read of that session now; any read after this one covers the channel already.
      readOnAccept(owner.sessionId);
      return owner.loginId;
    },
    recheck,
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
    get reads() {
      return reads;
    },
  };

  app.decorate("proxiedWebSockets", sockets);
  // After a request: a read at once when none came from here within AFTER_REQUEST_READ_EVERY_MS, else
  // one at its end for all the requests meanwhile. Real time, not deps.clock: it bounds the work.
  let lastAfterRequest = Number.NEGATIVE_INFINITY;
  let afterRequest: NodeJS.Timeout | null = null;
  const readAfterRequest = () => {
    afterRequest = null;
    lastAfterRequest = performance.now();
    void recheck();
  };
  app.addHook("onResponse", async (request) => {
    const method = request.method;
    if (size === 0 || method === "GET" || method === "HEAD" || method === "OPTIONS") return;
    // The application's own forms end no FAMOS session.
    if (request.routeOptions.config.sandboxedSection === true) return;
    if (afterRequest) return;
    const wait = lastAfterRequest + AFTER_REQUEST_READ_EVERY_MS - performance.now();
    if (wait <= 0) readAfterRequest();
    else afterRequest = setTimeout(readAfterRequest, wait).unref();
  });
  const timer = setInterval(() => void recheck(), recheckEveryMs);
  timer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
    if (afterRequest) clearTimeout(afterRequest);
    refusals.close();
    await Promise.all([running, ...accepting]);
  });
  return sockets;
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
