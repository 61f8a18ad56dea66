/**
 * The console's time filters are `<input type="datetime-local">` values, which carry no zone: they
 * are read as wall-clock times in FAMOS_TIMEZONE, the zone every FAMOS page shows times in. One space
 * stands for the T as well (RFC 3339 §5.6 allows it; "2026-12-06 08:00" is how people write it on a
 * command line: famos rollout plan --from, famos audit --since).
 */
export function parseLocalDateTime(text: string, timeZone: string): number | null {
  return readLocalDateTime(text, timeZone)?.instant ?? null;
}

/**
 * parseLocalDateTime's instant, with `skippedMs`: how far the zone's clocks jumped over the time typed
 * when they skip it (the spring change: 01:30 on 2027-03-28 does not exist in London), 0 for a time
 * that exists; `wall`: the time typed, as if it were UTC (to show it as typed). Such a time is read as the instant its wall clock would have shown without the jump
 * (01:30 GMT, shown 02:30 BST), as before; the caller says it moved (famos rollout plan).
 */
export function readLocalDateTime(text: string, timeZone: string): { instant: number; skippedMs: number; wall: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  // Date.UTC rolls 31 February over into March: refuse it rather than guess.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  // The zone's offset at the guessed instant; a second pass settles times next to a DST change.
  let instant = wall - zoneOffset(wall, timeZone);
  instant = wall - zoneOffset(instant, timeZone);
  // The wall clock at that instant shows the time typed, unless the clocks skipped it.
  return { instant, skippedMs: Math.max(0, instant + zoneOffset(instant, timeZone) - wall), wall };
}

/** Milliseconds the zone's wall clock is ahead of UTC at `ms`. */
function zoneOffset(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}
