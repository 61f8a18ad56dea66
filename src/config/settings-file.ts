import { readFileSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { fileProblem } from "../platform/file-problem.ts";

export type SettingsFileResult = { ok: true; values: Map<string, string> } | { ok: false; error: string };

/**
 * Reads a TOML settings file (`famos --config famos.toml`). Keys are the variables' names, with or
 * without the FAMOS_ prefix, in any case (`smtp_url = "…"` is FAMOS_SMTP_URL); values are strings,
 * numbers, booleans or arrays (joined with commas, as the comma-list settings expect). The file holds
 * one flat table: the settings are one flat list of names.
 */
export function readSettingsFile(path: string): SettingsFileResult {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { ok: false, error: `cannot read the settings file "${path}": ${fileProblem(error)}` };
  }
  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}` : "";
    return { ok: false, error: `the settings file ${path} is not valid TOML${where}: ${(error as Error).message.split("\n")[0]}` };
  }
  const values = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const [key, value] of Object.entries(table)) {
    const name = settingName(key);
    // TOML refuses a key given twice; `smtp_url` and `FAMOS_SMTP_URL` are two keys but one setting,
    // and the last one would win unseen.
    const earlier = keys.get(name);
    if (earlier !== undefined) return { ok: false, error: `${path}: "${earlier}" and "${key}" are the same setting; keep one of them` };
    keys.set(name, key);
    const text = settingText(value);
    if (text === null) return { ok: false, error: `${path}: "${key}" must be a string, a number, true/false or a list of them` };
    values.set(name, text);
  }
  return { ok: true, values };
}

function settingName(key: string): string {
  const upper = key.toUpperCase();
  return upper.startsWith("FAMOS_") ? upper : `FAMOS_${upper}`;
}

function settingText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) {
    const items = value.map(settingText);
    return items.every((item) => item !== null && !item.includes(",")) ? items.join(",") : null;
  }
  return null;
}
