const MINUTE = 60_000;

/**
 * The moment to tell people a pause or lock is over by. Pages and mails give times to the minute,
 * and a pause ends mid-minute (it started at the failure that set it): cut down, "until 14:01" for
 * one ending at 14:01:30 would have the reader try at 14:01 and be refused again, so the minute is
 * rounded up. Every page and mail that names a pause's end formats this, never the end itself.
 */
export function pauseOverBy(until: number): number {
  return Math.ceil(until / MINUTE) * MINUTE;
}
