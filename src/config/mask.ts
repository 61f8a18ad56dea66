import { isSecretSetting } from "./known-settings.ts";

const HIDDEN = "****";

/**
 * A setting's value as it may be shown (famos config, doctor): a secret is hidden; an address keeps
 * everything but its password, so an operator can still see which server and user it names.
 */
export function maskSetting(name: string, value: string): string {
  // An address with a password where none belongs (FAMOS_UPSTREAM_URL, refused) is shown without it.
  if (!isSecretSetting(name)) return URL.canParse(value) && new URL(value).password ? maskedPassword(value) : value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (url.password) url.password = HIDDEN;
      for (const key of [...url.searchParams.keys()]) if (/pass|secret|token/i.test(key)) url.searchParams.set(key, HIDDEN);
      return url.toString();
    } catch {
      return HIDDEN;
    }
  }
  if (/^sqlite:/.test(value)) return value;
  return HIDDEN;
}

function maskedPassword(value: string): string {
  const url = new URL(value);
  url.password = HIDDEN;
  return url.toString();
}
