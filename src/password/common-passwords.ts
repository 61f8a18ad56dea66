import { readFileSync } from "node:fs";

let common: ReadonlySet<string> | undefined;

/**
 * The list in common-passwords.txt (its header names the source and licence), read once at first
 * use. Entries are NFC and lower case; so must the argument be.
 */
export function isCommonPassword(normalisedLowerCase: string): boolean {
  common ??= loadList();
  return common.has(normalisedLowerCase);
}

function loadList(): ReadonlySet<string> {
  const lines = readFileSync(new URL("./common-passwords.txt", import.meta.url), "utf8").split(/\r?\n/);
  const body = lines.slice(lines.indexOf("") + 1); // the header ends at the first empty line
  return new Set(body.filter((line) => line !== ""));
}
