/** `?schema=` of a PostgreSQL URL: a lower-case identifier, which `famos migrate` creates when missing. */
const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Why FAMOS_DATABASE_URL cannot be used as written, or null: told with the other settings at start
 * (config.ts), before anything is opened, and again by openStore (database.ts) for a URL that did not
 * come through the settings. Before, a postgres:// value that is no URL (a stray bracket, port 99999)
 * or with a bad `?schema=` passed a prefix check and failed with a stack trace. Never quotes the
 * URL, which may hold a password.
 */
export function databaseUrlProblem(url: string): string | null {
  if (/^sqlite:.+/.test(url)) return null;
  if (!/^postgres(ql)?:\/\/.+/.test(url)) return "must be sqlite:<path> or postgres://…";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid postgres:// address: check the host and the port (1 to 65535); a user name or password with @, :, / or [ is written percent-encoded (%40, %3A, %2F, %5B)";
  }
  const schema = parsed.searchParams.get("schema");
  if (schema !== null && !SCHEMA.test(schema)) {
    return `has ?schema=${JSON.stringify(schema)}; a schema is a lower-case identifier (a to z, digits and _, not starting with a digit, at most 63 characters)`;
  }
  return null;
}
