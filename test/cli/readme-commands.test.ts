import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { checkImportFile } from "../../src/cli/import-file.ts";
import { buildProgram } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { isKnownName, knownSettings } from "../../src/config/known-settings.ts";
import { codeOf, readDoc, section } from "../support/markdown.ts";

/**
 * README's "Command line" is the operators' reference to `famos`: its table must name every command
 * and option the program has, and no command or option anywhere in README or SECURITY.md may be one
 * the program lacks. The program is read off commander's tree as main.ts builds it (buildProgram),
 * never run.
 */

/** One `famos …` written in a document: the command path (empty for `famos` itself) and the options shown with it. */
interface Mention {
  path: string[];
  options: string[];
  text: string;
}

/**
 * Every `famos …` in the document's code (code spans and fenced blocks; prose is not read). A
 * mention is `famos` (or `bin/famos.js`) as a word, then its words up to the end of the span or line,
 * a shell separator (`;`, `&&`, a ` | ` outside `[…]`) or a comment. Not mentions: `famos` as part of
 * a path, host or cookie name (`/etc/famos`, `famos.db`, `famos_session`), `famos:` at the start of an
 * error message, a bare `famos` and the image named after `docker run … --entrypoint node`, whose
 * arguments go to node. `a|b` in a command word is either; `<command>` stands for any.
 */
function mentionsIn(markdown: string): Mention[] {
  const mentions: Mention[] = [];
  for (const code of codeOf(markdown)) {
    for (const found of code.matchAll(/(?:(?<![\w.@$:/-])famos|bin\/famos\.js)(?=\s)/g)) {
      const dockerRun = code.lastIndexOf("docker run", found.index);
      if (dockerRun >= 0 && /--entrypoint\s/.test(code.slice(dockerRun, found.index))) continue;
      const words = commandWords(code.slice(found.index + found[0].length));
      const options: string[] = [];
      // famos's own options come before the command.
      while (words[0]?.startsWith("-")) {
        const option = words.shift()!.replace(/[=\]].*$/, "");
        options.push(option);
        if (takesValue(option) && !words[0]?.startsWith("-")) words.shift();
      }
      const path: string[][] = [];
      // A command word, then (when that names a group such as `user`) a subcommand word.
      const isWord = (word: string | undefined): word is string => word !== undefined && /^[a-z][a-z-]*(\|[a-z][a-z-]*)*$/.test(word);
      if (isWord(words[0])) path.push(words.shift()!.split("|"));
      if (path[0]?.some((name) => isGroup(name)) && isWord(words[0])) path.push(words.shift()!.split("|"));
      if (path.length === 0 && options.length === 0) continue;
      if (words[0] === "<command>") words.shift();
      for (const word of words) for (const option of word.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) options.push(option[0]);
      const text = `famos${code.slice(found.index + found[0].length)}`;
      for (const command of path[0] ?? [""]) {
        for (const sub of path[1] ?? [""]) mentions.push({ path: [command, sub].filter((name) => name !== ""), options, text });
      }
    }
  }
  return mentions;
}

/** The words after `famos` up to where its command line ends; quoted arguments are one word. */
function commandWords(rest: string): string[] {
  let depth = 0;
  let end = rest.length;
  for (let i = 0; i < rest.length; i += 1) {
    const char = rest[i]!;
    if (char === "[") depth += 1;
    else if (char === "]") depth = Math.max(0, depth - 1);
    else if (char === ";" || rest.startsWith("&&", i) || rest.startsWith("||", i) || rest.startsWith(" #", i - 1)) end = i;
    else if (char === "|" && depth === 0 && /\s/.test(rest[i - 1] ?? "") && /\s/.test(rest[i + 1] ?? "")) end = i;
    if (end === i) break;
  }
  return rest
    .slice(0, end)
    .replace(/"[^"]*"|'[^']*'/g, "ARGUMENT")
    .split(/\s+/)
    .filter((word) => word !== "");
}

interface ProgramCommand {
  path: string[];
  command: Command;
}

/** Every command of the program, `famos` itself (path []) included, with its path of names. */
function commandsOf(command: Command, path: string[] = []): ProgramCommand[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => commandsOf(sub, [...path, sub.name()]))];
}

const program = buildProgram();
const commands = commandsOf(program);
const byPath = new Map(commands.map((c) => [c.path.join(" "), c]));
/** `--config <file>`: the word after it is its value, not a command. */
const takesValue = (option: string) => program.options.some((o) => o.long === option && (o.required || o.optional));
const isGroup = (name: string) => (byPath.get(name)?.command.commands.length ?? 0) > 0;
const longOptions = (command: Command) => command.options.map((option) => option.long!);
/** commander takes famos's own options (`--config`) after a command too. */
const optionsTaken = (path: string[]) => path.flatMap((_, i) => longOptions(byPath.get(path.slice(0, i + 1).join(" "))!.command)).concat(longOptions(program));

/** The first column of README's command table. */
function commandTable(): Mention[] {
  const rows = section(readDoc("README.md"), "Command line")
    .split("\n")
    .filter((line) => /^\| `famos/.test(line));
  return mentionsIn(rows.map((row) => row.split(/(?<!\\)\|/)[1]!).join("\n"));
}

/** What is wrong with one mention: a command the program lacks, or an option its command does not take. */
function problemsOf(mention: Mention): string[] {
  const named = byPath.get(mention.path.join(" "));
  if (!named) return [`"${mention.text}": famos has no command "${mention.path.join(" ")}"`];
  return mention.options.filter((option) => !optionsTaken(mention.path).includes(option)).map((option) => `"${mention.text}": "famos ${mention.path.join(" ")}" takes no ${option}`);
}

describe("README's command table", () => {
  const table = commandTable();

  it("is found, and reads the commands of its rows", () => {
    expect(table.length).toBeGreaterThan(20);
    expect(table.map((m) => m.path.join(" "))).toEqual(expect.arrayContaining(["serve", "user add", "address unlock", "rollout plan", ""]));
  });

  it("names every command and subcommand famos has", () => {
    const runnable = commands.filter((c) => c.command.commands.length === 0).map((c) => c.path.join(" "));
    expect(runnable.length).toBeGreaterThan(20);
    const listed = new Set(table.map((m) => m.path.join(" ")));
    expect(runnable.filter((path) => !listed.has(path))).toEqual([]);
  });

  it("shows every option of each command in that command's rows", () => {
    const missing = commands.flatMap(({ path, command }) => {
      // famos's own options (`--config`) may be shown with any command.
      const rows = path.length === 0 ? table : table.filter((m) => m.path.join(" ") === path.join(" "));
      const shown = rows.flatMap((m) => m.options);
      return longOptions(command)
        .filter((option) => !shown.includes(option))
        .map((option) => ["famos", ...path, option].join(" "));
    });
    expect(missing).toEqual([]);
  });
});

describe.each(["README.md", "SECURITY.md"] as const)("every famos command %s shows", (doc) => {
  const mentions = mentionsIn(readDoc(doc));

  it("is found in its code spans and blocks", () => {
    expect(mentions.length).toBeGreaterThan(doc === "README.md" ? 100 : 10);
  });

  it("is a command of the program, with options that command takes", () => {
    expect(mentions.flatMap(problemsOf)).toEqual([]);
  });
});

/**
 * An operator follows README literally: the file shown under "Importing users" is one to copy and
 * adapt, so `famos user import` takes every row of it (before, both rows' hashes were placeholders,
 * `$2y$10$...` and `…$salt$base64hash=`, and the import refused the whole example).
 */
describe("README's example import file", () => {
  it("is taken whole by famos user import's checks", () => {
    const block = /^```csv\n([\s\S]*?)^```/m.exec(section(readDoc("README.md"), "Importing users (`famos user import`)"));
    expect(block).not.toBeNull();
    const checked = checkImportFile(block![1]!, { allowedDomains: [], sharedMailboxPolicy: "warn", sharedMailboxNames: [] });
    expect(checked.ok ? checked.refused : checked.message).toEqual([]);
    expect(checked.ok && checked.rows.length).toBeGreaterThanOrEqual(2);
  });
});

/**
 * README's "Configuration" table is the operator's reference to the settings: it has a row for every
 * setting the parser reads (read off loadConfig, as `famos config` lists them), and each default the
 * parser takes for a setting left unset, in development and in production, is written in that row's
 * default column as a code span (`famos config` shows the same values, FROM `default`).
 */
describe("README's configuration table", () => {
  const rows = section(readDoc("README.md"), "Configuration")
    .split("\n")
    .filter((line) => /^\| `FAMOS_/.test(line))
    .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()));
  const rowOf = (name: string) => rows.find((cells) => [...cells[1]!.matchAll(/`(FAMOS_[A-Z0-9_]+)`/g)].some((m) => m[1] === name));
  /** Defaults written as words where the value depends on another setting. */
  const inWords: Record<string, string> = {
    FAMOS_PUBLIC_URL: "`http://localhost:<port>`",
    FAMOS_BOUNCE_SMTP_HOST: "`FAMOS_HOST`",
    FAMOS_SHARED_MAILBOX_NAMES: "info, sales, office, team, reception, accounts, service, enquiries, admin, noreply, …",
  };

  it("has a row for every setting", () => {
    expect(rows.length).toBeGreaterThan(40);
    expect(knownSettings().filter((name) => rowOf(name) === undefined)).toEqual([]);
  });

  it.each(["development", "production"])("writes each default of %s mode in its row", (mode) => {
    const { defaults } = loadConfig({ NODE_ENV: mode });
    expect(defaults.size).toBeGreaterThan(30);
    const wrong = [...defaults].flatMap(([name, value]) => {
      const cell = rowOf(name)?.[2] ?? "";
      const expected = inWords[name] ?? `\`${value}\``;
      return cell.includes(expected) ? [] : [`${name}: README says ${cell || "nothing"}, famos config says ${value}`];
    });
    expect(wrong).toEqual([]);
  });
});

/**
 * A FAMOS_ name in README or SECURITY.md is one the program reads (a setting or its `<NAME>_FILE`):
 * an operator who copies it gets no "is not a FAMOS setting" warning. The one misspelling README shows
 * on purpose, to quote that warning, is the exception.
 */
describe.each(["README.md", "SECURITY.md"] as const)("every FAMOS_ name %s writes", (doc) => {
  it("is a setting famos reads", () => {
    const names = new Set([...readDoc(doc).matchAll(/\bFAMOS_[A-Z0-9_]*[A-Z0-9]/g)].map((m) => m[0]));
    expect(names.size).toBeGreaterThan(doc === "README.md" ? 50 : 10);
    expect([...names].filter((name) => !isKnownName(name) && name !== "FAMOS_SMTP_ULR")).toEqual([]);
  });
});
