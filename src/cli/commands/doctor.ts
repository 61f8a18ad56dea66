import { Command, InvalidArgumentError } from "commander";
import { checkDatabase, checkMail, checkPublicUrl, checkRedis, checkSecret, checkSettings, checkTrustProxy, type CheckResult } from "../../doctor/checks.ts";
import { checkPreviousSecret } from "../../doctor/previous-secret-check.ts";
import { readSettings } from "../io.ts";
import { formatTable } from "../table.ts";
import { isOneAddress } from "../../mail/mailbox.ts";

/** `--send-to`: one plain address, checked before anything runs (not a relay's "No recipients defined"). */
function sendTo(value: string): string {
  if (!isOneAddress(value.trim())) throw new InvalidArgumentError("give one email address, such as you@dealer.example");
  return value.trim();
}

/**
 * `famos doctor [--send-to ADDRESS]`: checks a deployment before users find its faults — settings,
 * database and migrations, SMTP, Redis, clocks, the public address against the cookies. Prints a
 * table; exit 0 when nothing failed, 1 otherwise.
 */
export function doctorCommand(): Command {
  return new Command("doctor")
    .description("check settings, database, migrations, SMTP, Redis, clocks and the public URL")
    .option("--send-to <address>", "also send a real test message to this address", sendTo)
    .action(async (options: { sendTo?: string }) => {
      const { resolved, result } = readSettings();
      const rows: CheckResult[] = checkSettings(resolved, result.ok ? [] : result.errors);
      if (result.ok) {
        const config = result.config;
        const [database, smtp, redis] = await Promise.all([
          checkDatabase(config).catch((error: Error) => [{ check: "database", status: "fail" as const, detail: error.message }]),
          checkMail(config, options.sendTo),
          checkRedis(config),
        ]);
        // What a change of FAMOS_SECRET left behind, read once the database answers.
        const keysLeft = database.every((row) => row.status !== "fail") ? [await checkPreviousSecret(config)] : [];
        const secret = checkSecret(config);
        const proxy = checkTrustProxy(config);
        rows.push(...(secret === null ? [] : [secret]), ...database, ...keysLeft, smtp, redis, checkPublicUrl(config), ...(proxy === null ? [] : [proxy]));
      } else {
        rows.push({ check: "others", status: "skip", detail: "not run until the settings are valid" });
      }
      process.stdout.write(formatTable(["CHECK", "RESULT", "DETAIL"], rows.map((r) => [r.check, r.status.toUpperCase(), r.detail])));
      const failed = rows.filter((r) => r.status === "fail").length;
      process.stdout.write(failed === 0 ? "All checks passed.\n" : `${failed} check${failed === 1 ? "" : "s"} failed.\n`);
      process.exitCode = failed === 0 ? 0 : 1;
    });
}
