import { Command } from "commander";
import { terminalText } from "../../platform/terminal-text.ts";
import { isProduction } from "../../config/config.ts";
import { knownSettings } from "../../config/known-settings.ts";
import { maskSetting } from "../../config/mask.ts";
import { developmentSecretText } from "../../config/secret.ts";
import { describeUnknown, settingsProblems } from "../../config/sources.ts";
import { readSettings } from "../io.ts";
import { formatTable } from "../table.ts";

/**
 * `famos config`: the effective settings, each with where it came from (the environment, the settings
 * file, a _FILE secret, or the default), secrets masked. A setting left alone shows the value the
 * configuration takes for it in this mode (development or production), or "(not set)" where it takes
 * none; FAMOS_SECRET left unset in development says where the server keeps the one it generates
 * (config/secret.ts), never the secret. Exit 1 when a setting is unknown or invalid.
 */
const NOT_SET = "(not set)";

export function configCommand(): Command {
  return new Command("config")
    .description("print the effective settings (secrets masked) and where each came from")
    .action(() => {
      const { resolved, result } = readSettings();
      const unset = (name: string) => (name === "FAMOS_SECRET" && !isProduction(resolved.env) ? developmentSecretText() : NOT_SET);
      const rows = knownSettings().map((name) => {
        const source = resolved.sources.get(name);
        const value = source === undefined ? result.defaults.get(name) : resolved.env[name];
        return [name, value === undefined ? unset(name) : maskSetting(name, value), source ?? "default"];
      });
      process.stdout.write(formatTable(["SETTING", "VALUE", "FROM"], rows));
      const problems = [...settingsProblems(resolved, result.ok ? [] : result.errors), ...resolved.unknown.map(describeUnknown)];
      for (const problem of problems) process.stderr.write(`famos: ${terminalText(problem)}\n`);
      process.exitCode = problems.length === 0 ? 0 : 1;
    });
}
