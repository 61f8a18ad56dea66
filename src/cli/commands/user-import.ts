import { readFileSync } from "node:fs";
import { Command } from "commander";
import { fileProblem } from "../../platform/file-problem.ts";
import { terminalText } from "../../platform/terminal-text.ts";
import type { User } from "../../users/users.ts";
import { operator, withServices } from "../context.ts";
import { checkImportFile, importUsersCsv } from "../import-file.ts";
import { enabledAgainText, syncAfterImport, syncDryRun, userListing } from "../import-sync.ts";
import { Refused, UsageError } from "../io.ts";
import { progressBar } from "../progress.ts";
import { STOPPED_EXIT_CODE, untilStopped } from "../stop-signal.ts";

export function userImportCommand(): Command {
  return new Command("import")
    .description(
      "add users from a CSV file (header login_id,full_name,partner_number,role,email,password_hash, any order); " +
        "hashes are argon2id, bcrypt or Django pbkdf2_sha256, kept as they are and upgraded at the next sign-in",
    )
    .argument("<file.csv>", "RFC 4180 CSV in UTF-8")
    .option("--update", "change the name, partner number, role, email and password hash of users who already exist")
    .option("--resume", "skip rows whose login ID already exists (taken by an earlier run that was interrupted)")
    .option("--email-as-contact", "take the email column as the address the 2FA announcement goes to; users still enrol their OTP email")
    .option("--sync", "also disable the users of the partners in the file who are missing from it")
    .option("--dry-run", "with --sync: list who would be disabled (and with --update enabled again), and change nothing")
    .action(async (file: string, options: { update?: boolean; resume?: boolean; emailAsContact?: boolean; sync?: boolean; dryRun?: boolean }) => {
      if (options.update && options.resume) throw new UsageError("give either --update or --resume, not both");
      if (options.dryRun && !options.sync) throw new UsageError("--dry-run goes with --sync");
      const text = readImportText(file);
      const again = options.update ? "run the same command again" : "run it again with --resume";
      await withServices(async ({ deps }) => {
        if (options.dryRun) return syncDryRun(deps, checkImportFile(text, deps.config.enrolment), options.update === true);
        const bar = await progressBar("Importing [{bar}] {value}/{total} rows");
        const result = await untilStopped((stopping) =>
          importUsersCsv(deps, text, {
            update: options.update === true,
            resume: options.resume === true,
            emailAsContact: options.emailAsContact === true,
            keepExisting: options.sync === true,
            actor: operator(),
            onStart: (rows) => bar?.start(rows, 0),
            onProgress: (done) => bar?.update(done),
            shouldStop: stopping,
          }),
        );
        bar?.stop();
        if (!result.ok) throw new Refused(result.message);
        const taken = result.added + result.updated + result.unchanged + result.skipped;
        const parts = [
          `${result.added} added`,
          ...(options.update || options.sync ? [`${result.updated} updated`, `${result.unchanged} unchanged`] : []),
          ...(options.resume ? [`${result.skipped} already there`] : []),
        ];
        process.stdout.write(`${taken} ${taken === 1 ? "row" : "rows"} taken (${parts.join(", ")}).\n`);
        // Its own line too: those rows are counted "unchanged" (support/imported-password.ts says why).
        process.stdout.write(recordedNotAppliedText(result.recordedNotApplied, result.notAppliedNamed));
        // Its own line, not a count in the brackets: an enabled row is one of the updated ones already.
        process.stdout.write(enabledAgainText(deps, result.enabled, false));
        if (result.refused.length > 0) {
          const lines = result.refused.map((r) => `  line ${r.line}: ${terminalText(r.reason)}`);
          process.stderr.write(`${result.refused.length} ${result.refused.length === 1 ? "row" : "rows"} refused:\n${lines.join("\n")}\n`);
          process.exitCode = 1;
        }
        if (result.stoppedAfter !== null) {
          // Rows are committed in batches (IMPORT_BATCH_ROWS, support/import-users.ts): --resume skips those already there (--update redoes them).
          // An incomplete file disables nobody (--sync).
          process.stderr.write(`famos: stopped after ${result.stoppedAfter} of ${result.rows} rows (those are stored); ${again} to take the rest\n`);
          process.exitCode = STOPPED_EXIT_CODE;
          return;
        }
        if (options.sync) await syncAfterImport(deps, checkImportFile(text, deps.config.enrolment), result.refused.length);
      }, { again, createsDatabase: !options.dryRun });
    });
}

/**
 * The first `--update` after migration 029 keeps an older account's argon2 password (sign-in's upgrade or
 * the person's own) and only records the file's hash: said, in case IT meant a new password, with the
 * accounts named as the sync's lines name theirs, the first `named` (NOT_APPLIED_NAMED) and how many more,
 * which their audit events (password.import-not-applied) name. "" for none.
 */
export function recordedNotAppliedText(count: number, named: readonly User[]): string {
  if (count === 0) return "";
  const which = count === 1 ? "hash recorded, not applied (an account" : "hashes recorded, not applied (accounts";
  const more = count - named.length;
  const rest = more > 0 ? `  … and ${more} more: famos audit --event password.import-not-applied names them all\n` : "";
  return `${count} file password ${which} from before this version whose password was changed or upgraded since; set a temporary one with famos user set-password <login-id> --temporary if IT meant a new password):\n${userListing(named)}${rest}`;
}

/** The file must be UTF-8 (spreadsheets offer "CSV UTF-8"); other encodings would garble names silently. */
function readImportText(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new Refused(`cannot read ${file}: ${fileProblem(error)}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Refused(`${file} is not UTF-8 text; save it as "CSV UTF-8" and try again`);
  }
}

