import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { decodeSecret } from "./config.ts";

/**
 * Development only: a secret generated once and kept under ./data, so codes and sessions survive
 * a restart. Production refuses to start without FAMOS_SECRET instead.
 */
export function developmentSecret(path = "./data/secret"): Buffer {
  try {
    const existing = decodeSecret(readFileSync(path, "utf8").trim());
    if (existing) return existing;
  } catch {
    // Not there yet: generated below.
  }
  const secret = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, secret.toString("hex") + "\n", { mode: 0o600 });
  return secret;
}
