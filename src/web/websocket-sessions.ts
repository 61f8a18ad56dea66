import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../app/deps.ts";
import { lapsedFullSessions, type LapseRow } from "../session/lapsed-sessions.ts";
import { passwordOnlyOutlived } from "../rollout/password-only.ts";
import { failureDetail } from "./after-commit.ts";
import { identityKey } from "./upstream-headers.ts";
import { webSocketRegistry, type Side, type WebSocketRegistry } from "./websocket-registry.ts";

// The cap is the registry's; the limits test knows it from here, the module the proxy registers.
export { WEBSOCKETS_PER_SESSION } from "./websocket-registry.ts";

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

/** The registry's handshakes and open channels (websocket-registry.ts), each closed once its session ends. */
export interface ProxiedWebSockets extends Pick<WebSocketRegistry, "allow" | "buffered" | "size" | "handshaking"> {
  /**
   * @fastify/http-proxy's onConnect: the application answered; the pair is tied to the session that
   * asked for it. The login ID of that session, or null when none is known (the pair is closed).
   */
  connected(upgradeSocket: object | undefined, browser: Side, application: Side): string | null;
  /** Closes the channels whose sessions no longer carry a full sign-in (one read for all); how many closed. */
  recheck(): Promise<number>;
  /** Reads of the open channels' sessions so far, by the hooks and the timer (not the one on each acceptance): what they cost the database (tests). */
  readonly reads: number;
  /**
   * The reads in flight (each accepted channel's own, and a recheck running) done: a test that changes
   * a channel's session after it opened knows which read sees the change.
   */
  settled(): Promise<void>;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Reverse-proxy mode: the open proxied WebSockets, by session (see registerProxiedWebSockets). */
    proxiedWebSockets: ProxiedWebSockets;
  }
}

/**
 * ASVS 3.3.1/3.3.2: ending a session ends all the access it granted, a live channel into the protected
 * application too. Each proxied WebSocket is tied to the session that opened it (websocket-registry.ts)
 * and closed on both sides (SESSION_ENDED_CODE) once that session no longer carries a full sign-in of
 * an active user (lapsedFullSessions, loadSignedIn's rule). When:
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
  const registry = webSocketRegistry(deps);
  // A password-only session whose account must now use two factors: its next request ends it, and its
  // channels close now. A channel opened under an identity the user no longer has (an administrator
  // demoted, a user moved to another partner, renamed) closes too: the application took it, at its
  // handshake, as that role's and that dealership's, and would go on serving it as such; the browser's
  // page opens a new one, under the headers of now.
  const outlived = (row: LapseRow): string | null => {
    if (passwordOnlyOutlived(deps.config, row, row)) return "two-factor-required";
    const now = identityKey(row);
    return registry.identities(row.id).some((identity) => identity !== now) ? "identity-changed" : null;
  };
  let reads = 0;

  /** Reads these sessions and closes the channels of those that lapsed; how many closed. */
  const closeLapsed = async (sessionIds: string[]): Promise<number> => {
    let lapsed: Map<string, string>;
    try {
      lapsed = await lapsedFullSessions(deps.db, sessionIds, deps.clock.now(), deps.config.session, outlived);
    } catch (error) {
      deps.logger.warn(failureDetail("WebSocket session recheck", error), "could not read the sessions of open WebSockets; tried again later");
      return 0;
    }
    let closed = 0;
    for (const [sessionId, reason] of lapsed) {
      const ended = registry.closeSession(sessionId);
      if (!ended) continue;
      deps.metrics.webSocketsClosed.inc({ reason }, ended.sockets);
      deps.logger.info({ session: sessionId.slice(0, 8), loginId: ended.loginId, reason, sockets: ended.sockets }, "proxied WebSocket closed: its session ended");
      closed += ended.sockets;
    }
    return closed;
  };

  const readAndClose = async (): Promise<number> => {
    const sessionIds = registry.sessionIds();
    if (sessionIds.length === 0) return 0;
    reads += 1;
    return closeLapsed(sessionIds);
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
    allow: (request) => registry.allow(request),
    connected(upgradeSocket, browser, application) {
      const accepted = registry.connected(upgradeSocket, browser, application);
      // The session was read when the handshake passed, and the application took its time to accept:
      // a session ended meanwhile (sign-out on a shared PC while a page's socket connects) was in no
      // read since, as its channel was not open yet, and would stay open until WEBSOCKET_RECHECK_MS.
      // One read of that session now; any read after this one covers the channel already.
      if (accepted?.open) readOnAccept(accepted.sessionId);
      return accepted?.loginId ?? null;
    },
    recheck,
    buffered: () => registry.buffered(),
    get size() {
      return registry.size;
    },
    get handshaking() {
      return registry.handshaking;
    },
    get reads() {
      return reads;
    },
    async settled() {
      await Promise.all([running, ...accepting]);
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
  const afterResponse = (request: FastifyRequest) => {
    const method = request.method;
    if (registry.size === 0 || method === "GET" || method === "HEAD" || method === "OPTIONS") return;
    // The application's own forms end no FAMOS session.
    if (request.routeOptions.config.sandboxedSection === true) return;
    if (afterRequest) return;
    const wait = lastAfterRequest + AFTER_REQUEST_READ_EVERY_MS - performance.now();
    if (wait <= 0) readAfterRequest();
    else afterRequest = setTimeout(readAfterRequest, wait).unref();
  };
  // A callback hook: it runs after every answer, and an async one costs each a promise and a microtask turn.
  app.addHook("onResponse", (request, _reply, done) => {
    afterResponse(request);
    done();
  });
  const timer = setInterval(() => void recheck(), recheckEveryMs);
  timer.unref();
  app.addHook("onClose", async () => {
    clearInterval(timer);
    if (afterRequest) clearTimeout(afterRequest);
    registry.close();
    await Promise.all([running, ...accepting]);
  });
  return sockets;
}
