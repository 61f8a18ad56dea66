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
