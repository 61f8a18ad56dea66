import { terminalJson } from "../../platform/terminal-text.ts";
import { Command } from "commander";
import { rolloutProgress } from "../../rollout/progress.ts";
import { rolloutJson, rolloutText } from "../../rollout/report.ts";
import { withServices } from "../context.ts";

export function rolloutStatusCommand(): Command {
  return new Command("status")
    .description("users, enrolled, pending, not started, locked and disabled, per partner and overall")
    .option("--json", "print one JSON object")
    .action(async (options: { json?: boolean }) => {
      await withServices(async ({ deps }) => {
        const progress = await rolloutProgress(deps);
        process.stdout.write(options.json ? `${terminalJson(rolloutJson(progress))}\n` : rolloutText(progress, deps.config.timezone));
      });
    });
}
