/** Times shown to people, in FAMOS_TIMEZONE, in the guide's style (dd/mm/yyyy, 24-hour clock). */

// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone and style.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, style: "time" | "date"): Intl.DateTimeFormat {
  const key = `${style}|${timeZone}`;
  let format = formatters.get(key);
  if (!format) {
    format =
      style === "time"
        ? new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        : new Intl.DateTimeFormat("en-GB", { timeZone, day: "2-digit", month: "2-digit", year: "numeric" });
    formatters.set(key, format);
  }
  return format;
}

export function formatTime(ms: number, timeZone: string): string {
  return formatter(timeZone, "time").format(ms);
}

export function formatDate(ms: number, timeZone: string): string {
  return formatter(timeZone, "date").format(ms);
}

export function formatDateTime(ms: number, timeZone: string): string {
  return `${formatDate(ms, timeZone)} ${formatTime(ms, timeZone)}`;
}

/** j•••@dealer.example: enough to recognise one's own address, not enough to learn someone else's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "•••";
  return `${email[0]}•••${email.slice(at)}`;
}

/** 14:02:31: a wait of seconds shown as a clock time (the Regenerate wait). */
export function formatTimeWithSeconds(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(ms);
}

/** Names people use for the zones FAMOS's users are in; others take Intl's generic name. */
const ZONE_NAMES: Record<string, string> = {
  "Europe/London": "UK time",
  "Europe/Belfast": "UK time",
  "GB": "UK time",
  "Europe/Dublin": "Irish time",
};

/**
 * The time zone as people say it ("UK time", "Eastern Time"), not an IANA identifier; where Intl has
 * no name for it, the offset at `at` ("UTC+9", "UTC").
 */
export function zoneName(timeZone: string, at: number): string {
  if (ZONE_NAMES[timeZone]) return ZONE_NAMES[timeZone];
  const part = (style: "longGeneric" | "shortOffset") =>
    new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: style }).formatToParts(at).find((p) => p.type === "timeZoneName")?.value ?? "";
  const generic = part("longGeneric");
  if (generic && !generic.startsWith("GMT")) return generic;
  const offset = part("shortOffset").replace(/^GMT/, "");
  return offset === "" || offset === "+0" ? "UTC" : `UTC${offset}`;
}
