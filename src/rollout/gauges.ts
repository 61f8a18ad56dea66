import type { Deps } from "../app/deps.ts";
import { promClient } from "../app/metrics.ts";
import { FIGURE_COLUMNS, rolloutProgress, type RolloutProgress } from "./progress.ts";

/** Prometheus names of the figures: users, enrolled, pending, not_started, locked, disabled. */
const STATE: Record<(typeof FIGURE_COLUMNS)[number], string> = {
  users: "users",
  enrolled: "enrolled",
  pending: "pending",
  notStarted: "not_started",
  locked: "locked",
  disabled: "disabled",
};

/**
 * The Rollout page's figures as gauges, read from the database when /metrics is scraped:
 * `famos_rollout_users{state}` for everyone and `famos_rollout_partner_users{partner,state}`.
 */
export function registerRolloutGauges(deps: Deps): void {
  const { Gauge } = promClient();
  // The registry collects its metrics at once: both gauges share one read per scrape.
  let reading: Promise<RolloutProgress | null> | null = null;
  const read = () => {
    reading ??= rolloutProgress(deps, { days: 1 })
      // A database outage must not turn /metrics into an error: keep the last values (/readyz reports it).
      .catch(() => null)
      .finally(() => setImmediate(() => (reading = null)));
    return reading;
  };
  new Gauge({
    name: "famos_rollout_users",
    help: "All users by 2FA rollout state (users, enrolled, pending, not_started, locked, disabled)",
    labelNames: ["state"],
    registers: [deps.metrics.registry],
    async collect() {
      const progress = await read();
      if (!progress) return;
      for (const column of FIGURE_COLUMNS) this.set({ state: STATE[column] }, progress.overall[column]);
    },
  });
  new Gauge({
    name: "famos_rollout_partner_users",
    help: "Users of one partner by 2FA rollout state (users, enrolled, pending, not_started, locked, disabled)",
    labelNames: ["partner", "state"],
    registers: [deps.metrics.registry],
    async collect() {
      const progress = await read();
      if (!progress) return;
      this.reset();
      for (const p of progress.partners) for (const column of FIGURE_COLUMNS) this.set({ partner: p.partnerNumber, state: STATE[column] }, p[column]);
    },
  });
}
