import { stdin } from "node:process";
import { createInterface } from "node:readline";
import { loadConfig, type Config } from "../config/config.ts";

/** Refused input: exit 1 with the reason on standard error (usage errors are commander's, exit 2). */
export class Refused extends Error {}

export function configOrExit(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const result = loadConfig(env);
  if (!result.ok) {
    process.stderr.write(`FAMOS cannot start; fix these settings:\n${result.errors.map((e) => `  - ${e}`).join("\n")}\n`);
    process.exit(1);
  }
  return result.config;
}

/** One line from standard input when it is not a terminal; else asked twice without echo. */
export async function readPassword(prompt = "Password: "): Promise<string> {
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin });
    for await (const line of rl) {
      rl.close();
      return line.replace(/\r$/, "");
    }
    return "";
  }
  const first = await askHidden(prompt);
  const second = await askHidden("Again: ");
  if (first !== second) throw new Refused("the two passwords do not match");
  return first;
}

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = "";
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stderr.write("\n");
          resolve(value);
          return;
        }
        if (char === "\u0003") process.exit(130);
        if (char === "\u007f") value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on("data", onData);
  });
}
