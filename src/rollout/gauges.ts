import { Gauge } from "prom-client";
import type { Deps } from "../app/deps.ts";
import { FIGURE_COLUMNS, rolloutProgress } from "./progress.ts";

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
  // The registry reads gauges in the order they were made: the first one reads the database for both.
  new Gauge({
    name: "famos_rollout_users",
    help: "All users by 2FA rollout state (users, enrolled, pending, not_started, locked, disabled)",
    labelNames: ["state"],
    registers: [deps.metrics.registry],
    async collect() {
      // A database outage must not turn /metrics into an error: keep the last values (/readyz reports it).
      let progress;
      try {
        progress = await rolloutProgress(deps, { days: 1 });
      } catch {
        return;
      }
      this.reset();
      partnerGauge.reset();
      for (const column of FIGURE_COLUMNS) {
        this.set({ state: STATE[column] }, progress.overall[column]);
        for (const p of progress.partners) partnerGauge.set({ partner: p.partnerNumber, state: STATE[column] }, p[column]);
      }
    },
  });
  const partnerGauge = new Gauge({
    name: "famos_rollout_partner_users",
    help: "Users of one partner by 2FA rollout state (users, enrolled, pending, not_started, locked, disabled)",
    labelNames: ["partner", "state"],
    registers: [deps.metrics.registry],
  });
}
