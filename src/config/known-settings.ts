import { editDistance } from "../enrolment/typo.ts";
import { loadConfig } from "./config.ts";

/**
 * Settings read outside loadConfig (the log level is the logger's, before any config exists) and the
 * name of the settings file itself.
 */
const READ_ELSEWHERE = ["FAMOS_LOG_LEVEL", "FAMOS_CONFIG"];

/** Settings that hold a secret or credentials: masked when shown, and also read from `<NAME>_FILE`. */
const SECRET_BEARING = ["FAMOS_SECRET", "FAMOS_SECRET_PREVIOUS", "FAMOS_SMTP_URL", "FAMOS_DATABASE_URL", "FAMOS_REDIS_URL"];
/**
 * Settings added later whose name says they hold a secret are treated the same way: the name ends in
 * what it holds (FAMOS_BOUNCE_WEBHOOK_SECRET). FAMOS_PASSWORD_RESET and FAMOS_TEMP_PASSWORD_TTL only
 * mention a password: their values are policy, which `famos config` must show.
 */
const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|_KEY)$/;

let known: readonly string[] | null = null;

/**
 * Every FAMOS_ variable the configuration reads, found by running the one parser (loadConfig) over an
 * environment that records each name asked for, in development and in production. The list is never
 * kept by hand: a setting added to config.ts is known here at once, and the typo check cannot drift.
 */
export function knownSettings(): readonly string[] {
  if (known !== null) return known;
  const names = new Set<string>(READ_ELSEWHERE);
  for (const mode of ["development", "production"]) {
    const recorder = new Proxy<Record<string, string | undefined>>(
      { NODE_ENV: mode },
      {
        get(target, name) {
          if (typeof name === "string" && name.startsWith("FAMOS_")) names.add(name);
          return typeof name === "string" ? target[name] : undefined;
        },
      },
    );
    loadConfig(recorder);
  }
  known = Object.freeze([...names].sort());
  return known;
}

export function isSecretSetting(name: string): boolean {
  // A setting that is itself a path (FAMOS_DKIM_KEY_FILE) names where a secret is, and is shown.
  if (name.endsWith("_FILE")) return false;
  return SECRET_BEARING.includes(name) || SECRET_NAME.test(name);
}

/** The `<NAME>_FILE` variables: one for each secret-bearing setting. */
export function fileVariants(): string[] {
  return knownSettings().filter(isSecretSetting).map((name) => `${name}_FILE`);
}

export function isKnownName(name: string): boolean {
  return knownSettings().includes(name) || fileVariants().includes(name);
}

/** The known name nearest to a misspelt one, when it is close enough to be the one meant. */
export function nearestSetting(name: string): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of [...knownSettings(), ...fileVariants()]) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // A third of the name may differ (FAMOS_SMTP_ULR, FAMOS_SESION_IDLE, FAMOS_OTP_TTL_SECONDS …).
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}
