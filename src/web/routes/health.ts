import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import type { Deps } from "../../app/deps.ts";
import { migrationsApplied } from "../../store/migrate.ts";
import type { Store } from "../../store/database.ts";
import { addressAllowed } from "../ip-allow.ts";

/** Operators' endpoints: liveness, readiness (database and migrations) and Prometheus metrics. */
export function healthRoutes(app: FastifyInstance, deps: Deps, store: Store): void {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      if (!(await migrationsApplied(store))) return reply.code(503).send({ status: "migrations pending" });
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
