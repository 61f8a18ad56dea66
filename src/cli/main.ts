import { pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { addressCommand } from "./commands/address.ts";
import { auditCommand } from "./commands/audit.ts";
import { configCommand } from "./commands/config.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { resealCommand } from "./commands/reseal.ts";
import { cleanupCommand } from "./commands/cleanup.ts";
import { mailCommand } from "./commands/mail.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { rolloutCommand } from "./commands/rollout.ts";
import { serveCommand } from "./commands/serve.ts";
import { userCommand } from "./commands/user.ts";
import { terminalText } from "../platform/terminal-text.ts";
import { DevelopmentSecretFault } from "../config/secret.ts";
import { Refused, UsageError, useSettingsFile } from "./io.ts";

/** `famos <command>`: exit 0 on success, 1 for refused input (reason on stderr), 2 for usage errors. */
export function buildProgram(): Command {
  const program = new Command("famos")
    .description("FAMOS sign-in with email one time passcodes")
    .exitOverride()
    .configureOutput(OUTPUT)
    .showHelpAfterError()
    .option("--config <file>", "read settings from this TOML file as well (the environment overrides it)")
    .hook("preAction", (root) => useSettingsFile(root.opts<{ config?: string }>().config));
  program.addCommand(serveCommand());
  program.addCommand(migrateCommand());
  program.addCommand(userCommand());
  program.addCommand(addressCommand());
  program.addCommand(auditCommand());
  program.addCommand(doctorCommand());
  program.addCommand(configCommand());
  program.addCommand(resealCommand());
  program.addCommand(cleanupCommand());
  program.addCommand(rolloutCommand());
  program.addCommand(mailCommand());
  for (const command of program.commands) applyExitOverride(command);
  return program;
}

/**
 * commander's own errors are one line that may quote what was typed (`--role <ESC>[2J`): escaped. Its
 * own line break before a suggestion ("(Did you mean --json?)") becomes a space first, so the
 * suggestion reads as words rather than as the escape `\u000a`.
 */
const OUTPUT = {
  writeErr: (text: string) => process.stderr.write(text),
  outputError: (text: string, write: (text: string) => void) =>
    write(`${terminalText(text.replace(/\n$/, "").replace(/\n(?=\(Did you mean )/g, " "))}\n`),
};

function applyExitOverride(command: Command): void {
  command.exitOverride();
  // addCommand does not pass the parent's output settings on.
  command.configureOutput(OUTPUT);
  for (const sub of command.commands) applyExitOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  // `famos audit | head`: a reader that stops early is not an error of ours.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
      // `famos user` without its subcommand: commander shows the help on standard error with a
      // non-zero exit code, a usage error like any other.
      if (error.code === "commander.help" && error.exitCode === 0) return 0;
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`famos: ${terminalText(error.message)}\n`);
      return 2;
    }
    if (error instanceof Refused || error instanceof DevelopmentSecretFault) {
      // Refusals quote what was typed (a login ID, a file name): never raw on the terminal.
      process.stderr.write(`famos: ${terminalText(error.message)}\n`);
      return 1;
    }
    process.stderr.write(`famos: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await main(process.argv.slice(2));
  // `serve` keeps the process alive itself; every other command ends here.
  if (code !== 0 || !process.argv.slice(2).includes("serve")) process.exit(code);
}
