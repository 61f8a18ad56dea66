const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "90s", "15m", "1h", "2d", "500ms" into milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d{1,9})\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * UNITS[match[2]!]!;
}

export type DurationUnit = "day" | "hour" | "minute" | "second";

/** Says a duration in words: "15 minutes", "90 seconds", "1 hour", "1 hour 30 minutes". */
export function durationInWords(ms: number): string {
  return durationParts(ms)
    .map(([value, unit]) => `${value} ${unit}${value === 1 ? "" : "s"}`)
    .join(" ");
}

/** A duration as the numbers of each unit it is said in; the words come from the reader's language (src/i18n). */
export function durationParts(ms: number): [number, DurationUnit][] {
  const parts: [number, DurationUnit][] = [];
  let rest = Math.round(ms / 1000);
  const push = (value: number, unit: DurationUnit) => parts.push([value, unit]);
  // Under two minutes read more naturally in seconds ("90 seconds").
  if (rest < 120) {
    push(rest, "second");
    return parts;
  }
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  if (days) push(days, "day");
  if (hours) push(hours, "hour");
  if (minutes) push(minutes, "minute");
  if (seconds) push(seconds, "second");
  return parts;
}
