// What every settings parser shares: the problems collected for one report, and comma lists.
/** Why a variable is wrong; collected so every problem is reported at once. */
export class Problems {
  readonly list: string[] = [];
  add(name: string, message: string): void {
    this.list.push(`${name}: ${message}`);
  }
}

/** A comma list with surrounding spaces and empty items dropped. */
export function list(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((item) => item.trim()).filter((item) => item.length > 0);
}

/**
 * A server address (FAMOS_SMTP_URL, FAMOS_REDIS_URL) that the URL parser refuses: most often a port
 * mistyped or out of range, else a user name or password holding a character that must be encoded.
 */
export const UNREADABLE_SERVER_ADDRESS =
  "is not a valid address: check the host and the port (1 to 65535); a user name or password with @, : or / is written percent-encoded (%40, %3A, %2F)";
