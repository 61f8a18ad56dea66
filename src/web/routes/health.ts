import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Deps } from "../../app/deps.ts";
import { pendingMigrations } from "../../store/migrate.ts";
import type { Store } from "../../store/database.ts";
import { probeWrite, WriteReadiness } from "../../store/write-readiness.ts";
import { isDraining } from "../drain.ts";
import { addressAllowed } from "../ip-allow.ts";

function answeredWithin<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Operators' endpoints: liveness, readiness (not stopping, database and migrations) and Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, deps: Deps, store: Store): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  // Once this code's migrations are all applied they stay applied, so later probes need only a
  // round trip to the database (the migration check reads the catalogue, too heavy for every probe).
  let migrated = false;
  // A database that holds the connection and never answers (hung, or a network dropping packets) is
  // unreachable for readiness: the probe says so once FAMOS_DATABASE_TIMEOUT has passed, the bound of
  // the server's own statements on PostgreSQL (store/statement-bound.ts), rather than never answering.
  const READY_WITHIN_MS = deps.config.databaseTimeoutMs;
  // A database that answers but takes no writes (a full disk) is not ready either: every sign-in fails.
  const writes = new WriteReadiness(() => answeredWithin(READY_WITHIN_MS, probeWrite(store)));
  app.addHook("onError", async (_request, _reply, error) => writes.noteFault(error));
  app.get("/readyz", async (_request, reply) => {
    // From SIGTERM on, a load balancer's probe (the drain serves every request until no connection
    // came for 2 s, drain.ts) must hear that this instance is leaving, not "ready".
    if (isDraining(app.server)) return reply.code(503).send({ status: "stopping" });
    try {
      await answeredWithin(READY_WITHIN_MS, sql`select 1`.execute(deps.db));
      if (!migrated) {
        const pending = await answeredWithin(READY_WITHIN_MS, pendingMigrations(store));
        if (pending.length > 0) return reply.code(503).send({ status: "migrations pending", pending });
        migrated = true;
      }
      if (!(await writes.takesWrites())) return reply.code(503).send({ status: "database cannot take writes" });
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "database unreachable" });
    }
  });

  app.get("/metrics", async (request, reply) => {
    if (!addressAllowed(request.ip, deps.config.metricsAllow)) return reply.code(403).send({ error: "forbidden" });
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
