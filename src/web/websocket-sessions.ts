import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { lapsedFullSessions } from "../session/lapsed-sessions.ts";
import { failureDetail } from "./after-commit.ts";
import { signedIn } from "./auth.ts";

/**
 * The close code both sides of a proxied WebSocket get when its session ends. RFC 6455 §7.4.2 leaves
 * 4000–4999 to applications; 4401 mirrors HTTP 401 as graphql-ws and others use it, so the page's
 * script can tell "sign in again" from a fault and need not retry in a loop (a new handshake would be
 * sent to sign in anyway). 1008 (policy violation) would say the peer broke a rule; nobody did.
 */
export const SESSION_ENDED_CODE = 4401;
export const SESSION_ENDED_REASON = "session ended";

/**
 * How often the open sockets' sessions are read again: sessions ended by another instance or by a
 * command (`famos user disable`, a direct UPDATE), idle or past their lifetime, are caught within this.
 * A constant: one indexed read per interval per instance, whatever the number of sockets, costs little,
 * and ASVS 3.3 asks for termination, not for a knob; a shorter bound is the operator's ask to make.
 */
export const WEBSOCKET_RECHECK_MS = 30_000;

/** One side of a proxied WebSocket, as ws gives it (the browser's is a BrowserWebSocket, proxied-websocket.ts). */
export interface Side {
  close(code?: number, reason?: string): void;
  /** Bytes sent to this side that FAMOS still holds (ws's queue and the connection's write buffer). */
  readonly bufferedAmount: number;
  once(event: "close", listener: () => void): unknown;
}

interface Channel {
  browser: Side;
  application: Side;
  loginId: string;
}

export interface ProxiedWebSockets {
  /** A WebSocket handshake let through for this request's full session (its upgrade socket names it until the application answers). */
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
  /** Reads of the open channels' sessions so far: what the hooks cost the database (tests). */
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
 * - at once after any state-changing request of this instance has been answered (after its commit):
 *   sign-out, Profile's "End", a password or address change, the console's reset, disable and the
 *   rest all end sessions in such a request, and no flow has to remember to say so;
 * - every WEBSOCKET_RECHECK_MS, for what this instance cannot see: another instance, a command, the
 *   clock (idle is measured by the user's HTTP requests; the socket does not touch its session, so a
 *   tab left open on a shared PC lapses too).
 * A failed read is logged and tried again at the next occasion; the channels stay until a read says.
 */
export function registerProxiedWebSockets(app: FastifyInstance, deps: Deps, recheckEveryMs = WEBSOCKET_RECHECK_MS): ProxiedWebSockets {
  /** Upgrade sockets whose handshake passed, with the session it passed for. */
  const allowed = new WeakMap<object, { sessionId: string; loginId: string }>();
  const bySession = new Map<string, Set<Channel>>();
  let size = 0;
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

  const readAndClose = async (): Promise<number> => {
    if (bySession.size === 0) return 0;
    reads += 1;
    let lapsed: Map<string, string>;
    try {
      lapsed = await lapsedFullSessions(deps.db, [...bySession.keys()], deps.clock.now(), deps.config.session);
    } catch (error) {
      deps.logger.warn(failureDetail("WebSocket session recheck", error), "could not read the sessions of open WebSockets; tried again later");
      return 0;
    }
    let closed = 0;
    for (const [sessionId, reason] of lapsed) closed += closeSession(sessionId, reason);
    return closed;
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
      .catch((error: unknown) => {
        deps.logger.error({ err: error }, "WebSocket session recheck failed");
        return 0;
      });
    next = run;
    running = run;
    return run;
  };

  const sockets: ProxiedWebSockets = {
    allow(request) {
      const { session, user } = signedIn(request);
      allowed.set(request.raw.socket, { sessionId: session.id, loginId: user.login_id });
    },
    connected(upgradeSocket, browser, application) {
      const owner = upgradeSocket === undefined ? undefined : allowed.get(upgradeSocket);
      if (!owner) {
        // A channel no session is known for has no business staying open.
        closeSide(browser);
        closeSide(application);
        return null;
      }
      const channel: Channel = { browser, application, loginId: owner.loginId };
      let channels = bySession.get(owner.sessionId);
      if (!channels) bySession.set(owner.sessionId, (channels = new Set()));
      channels.add(channel);
      size += 1;
      browser.once("close", () => forget(owner.sessionId, channel));
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
    get reads() {
      return reads;
    },
  };

  app.decorate("proxiedWebSockets", sockets);
  app.addHook("onResponse", async (request) => {
    const method = request.method;
    if (size === 0 || method === "GET" || method === "HEAD" || method === "OPTIONS") return;
    // The application's own forms end no FAMOS session.
    if (request.routeOptions.config.sandboxedSection === true) return;
    void recheck();
  });
  const timer = setInterval(() => void recheck(), recheckEveryMs);
  timer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
    await running;
  });
  return sockets;
}

/**
 * Closes one side, whatever state it is in: closing or closed already is a no-op in ws, and a peer
 * that ignores the close frame is cut by ws after its close timeout. Nothing flows meanwhile: ws
 * sends nothing on a socket that is closing, so neither side's messages reach the other.
 */
function closeSide(side: Side): void {
  try {
    side.close(SESSION_ENDED_CODE, SESSION_ENDED_REASON);
  } catch (error) {
    // ws throws in no state here (one still connecting reports an error event, which the proxy
    // handles); should a later ws throw, it must not end the process from a timer.
    void error;
  }
}
