import { setTimeout as delay } from "node:timers/promises";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Metrics } from "../app/metrics.ts";
import { floodReport } from "../platform/flood-report.ts";
import { failureDetail } from "./after-commit.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Work a route runs after its answer has gone (see registerAfterReply). */
    afterReply: AfterReply;
  }
}

/**
 * How long the work waits once the answer has left this process. Handed to the kernel is not yet
 * delivered: on a host shared with whatever relays or reads the answer (nginx in front, the client of
 * `npm run check:timing`), work started at once took the CPU they needed, and an account's answer
 * arrived about 0.4 ms (30%) later than an unknown login ID's on a loaded 2-core machine, as it did
 * after the next turn of the event loop; 2 ms later and more, they arrived alike. Ten leave a margin
 * and delay a code's mail by nothing a user would notice.
 */
const AFTER_THE_ANSWER_MS = 10;

/**
 * How many pieces of work may wait (for AFTER_THE_ANSWER_MS) or run at once; the next are dropped.
 * Each holds its request's reply and waits for the database, so without a bound a flood (request
 * limits off, FAMOS_RATE_LIMIT=0, or spread over many addresses) grew memory and the database's queue
 * without end, slowing every sign-in. A real rush of password resets (a dealership's staff at the start
 * of a day) is tens at once; 256 leaves ten times that, and is what the database works through in a
 * second or two (a reset's work is a few statements).
 */
export const AFTER_REPLY_LIMIT = 256;

export interface AfterReply {
  /**
   * Starts `work` once `reply` has been handed to the socket (or its client has gone), and a moment
   * later (AFTER_THE_ANSWER_MS), never before: the answer's time does not depend on it. A failure is logged at error in one line, as afterCommit
   * logs one, and counted (famos_after_reply_failures_total{work}); it goes no further (no unhandled
   * rejection: the answer has gone, nobody is left to tell). When AFTER_REPLY_LIMIT pieces already
   * wait or run, `work` is not started: counted (famos_after_reply_dropped_total{work}) and warned
   * about at most once a second. That too is decided after the answer, which is the same either way.
   */
  run(reply: FastifyReply, what: string, work: () => Promise<unknown>): void;
  /** Resolves once no such work is waiting or running. app.close() waits for it too. */
  settled(): Promise<void>;
}

/**
 * Work that follows a request's answer instead of preceding it, when waiting for it would tell
 * something by the answer's time (password-reset.ts: whether a login ID is an account). Tracked from
 * the moment it is asked for, so that the app's close, which runs before the database is closed
 * (src/cli/commands/serve.ts, test/support/app.ts), waits for it: Fastify closes the server and
 * finishes the requests in flight first, then runs this hook, so no answer can still ask for work.
 */
export function registerAfterReply(app: FastifyInstance, metrics: Pick<Metrics, "afterReplyFailed" | "afterReplyDropped">): void {
  const inFlight = new Set<Promise<void>>();
  /** Pieces past their answer, waiting or running: the ones AFTER_REPLY_LIMIT bounds. */
  let active = 0;
  // Drops are told at warn at most once a second, with how many: not one line per dropped piece in a flood.
  const drops = floodReport((dropped) => app.log.warn({ dropped, limit: AFTER_REPLY_LIMIT }, "work after the answer dropped: too much already waiting or running"));
  const run: AfterReply["run"] = (reply, what, work) => {
    // 'close' follows 'finish' (the last byte handed to the socket) and comes alone when the client
    // went first: either way the work starts once, after the answer.
    const answered = new Promise<void>((resolve) => reply.raw.once("close", resolve));
    const done = answered
      .then(async () => {
        if (active >= AFTER_REPLY_LIMIT) {
          metrics.afterReplyDropped.inc({ work: what });
          drops.add();
          return;
        }
        active += 1;
        try {
          await delay(AFTER_THE_ANSWER_MS);
          await work();
        } finally {
          active -= 1;
        }
      })
      .then(
        () => undefined,
        (error: unknown) => {
          // Counted too: nobody is left to tell, and its user saw the answer (no reset code will come).
          metrics.afterReplyFailed.inc({ work: what });
          reply.log.error(failureDetail(what, error), "failed after the answer; the answer had gone already");
        },
      )
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  const settled = async () => {
    while (inFlight.size > 0) await Promise.all(inFlight);
  };
  app.decorate("afterReply", { run, settled });
  app.addHook("onClose", async () => {
    await settled();
    drops.close();
  });
}
