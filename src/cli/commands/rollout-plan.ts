import { Command } from "commander";
import { formatDateTime } from "../../platform/format.ts";
import { changeWave } from "../../rollout/plan-change.ts";
import { readPlan } from "../../rollout/plan.ts";
import { operator, withServices } from "../context.ts";
import { Refused, refuseEmptyOption, UsageError } from "../io.ts";

/** The warning for a partner number no user has (noUserHasPartner): plan saves it all the same, announce mails no one. */
export function warnNoSuchPartner(partnerNumber: string): void {
  process.stderr.write(`famos: warning: no user has partner number ${partnerNumber} yet; check it (leading zeros count)\n`);
}

export function rolloutPlanCommand(): Command {
  return new Command("plan")
    .description("set when two-factor sign-in starts for a partner (--partner) or for everyone else (no --partner); without --from or --remove, show the plan")
    .option("--partner <number>", "the partner number; leave out for the default start")
    .option("--from <local time>", "the start as a wall-clock time in FAMOS_TIMEZONE, e.g. 2027-01-11T07:00")
    .option("--remove", "remove the partner's own start (it follows the default), or the default start itself")
    .action(async (options: { partner?: string; from?: string; remove?: boolean }) => {
      if (options.from !== undefined && options.remove) throw new UsageError("give either --from or --remove, not both");
      // The console's form leaves the partner empty for the default start; here that is leaving
      // --partner out, and `--partner "$PARTNER"` with the variable unset must not move every partner.
      refuseEmptyOption("--partner", options.partner, "a partner number, or leave --partner out for the default start");
      await withServices(async ({ deps }) => {
        const tz = deps.config.timezone;
        if (options.from === undefined && !options.remove) {
          const plan = await readPlan(deps.db);
          if (plan.waves.length === 0) {
            process.stdout.write("No plan: two-factor sign-in applies to every user now.\n");
            return;
          }
          const lines = plan.waves.map((w) => `${(w.partnerNumber === null ? "default" : `partner ${w.partnerNumber}`).padEnd(20)} ${formatDateTime(w.startsAt, tz)}`);
          process.stdout.write(`${lines.join("\n")}\n(times in ${tz})\n`);
          return;
        }
        const outcome = await changeWave(deps, { user: null, audit: operator() }, { partner: options.partner ?? null, from: options.remove ? null : options.from! });
        // The operator is never refused (actingNow); said all the same should that change.
        if (outcome.kind === "invalid" || outcome.kind === "forbidden") throw new Refused(outcome.message);
        const who = outcome.partnerNumber !== null ? `partner ${outcome.partnerNumber}` : "the default start";
        if (outcome.kind === "not-found") throw new Refused(`there is no start for ${who} to remove`);
        if (outcome.kind === "removed") process.stdout.write(`Removed ${who}.\n`);
        else {
          process.stdout.write(`Two-factor sign-in starts for ${outcome.partnerNumber === null ? "every partner without its own start" : who} at ${outcome.shown}.\n`);
          if (outcome.skipped) {
            // Exit 0 as before: the start is saved; the operator learns it is not the time typed, and why.
            const jump = outcome.skipped.byMs === 3_600_000 ? "an hour" : `${Math.round(outcome.skipped.byMs / 60_000)} minutes`;
            process.stderr.write(`famos: warning: ${outcome.skipped.typed} does not exist in ${tz} (the clocks go forward ${jump} then); the start is ${formatDateTime(outcome.startsAt, tz)}\n`);
          }
          if (outcome.nobody) warnNoSuchPartner(outcome.partnerNumber!);
          if (outcome.past) process.stderr.write("famos: warning: the start is in the past: two-factor sign-in applies from these users' next sign-in\n");
        }
        if (outcome.toldAgain > 0) {
          const users = outcome.toldAgain === 1 ? "1 user was" : `${outcome.toldAgain} users were`;
          process.stderr.write(`famos: warning: ${users} already mailed the start this replaces; \`famos rollout announce\` mails them the new one\n`);
        }
      });
    });
}
