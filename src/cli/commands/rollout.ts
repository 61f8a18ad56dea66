import { Command } from "commander";
import { rolloutAnnounceCommand } from "./rollout-announce.ts";
import { rolloutPlanCommand } from "./rollout-plan.ts";
import { rolloutStatusCommand } from "./rollout-status.ts";

/** `famos rollout plan|announce|status`: switching 2FA on across the dealer network (issue 12). */
export function rolloutCommand(): Command {
  return new Command("rollout")
    .description("plan, announce and watch the switch to two-factor sign-in")
    .addCommand(rolloutPlanCommand())
    .addCommand(rolloutAnnounceCommand())
    .addCommand(rolloutStatusCommand());
}
