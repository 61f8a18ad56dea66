import type { Deps } from "../app/deps.ts";
import { randomId } from "../platform/random.ts";
import { runCleanup, type CleanupOptions, type CleanupReport } from "./cleanup.ts";
import { claimLease, releaseLease } from "./lease.ts";

const HOUR = 3_600_000;
/** Longer than any cleanup takes; a holder that died gives the job up after this. */
export const CLEANUP_LEASE_MS = 15 * 60_000;

/** Runs the retention job if no other instance is running it: its report, or null when another holds it. */
export async function cleanupOnce(deps: Deps, holder: string, options: CleanupOptions = {}): Promise<CleanupReport | null> {
  if (!(await claimLease(deps.db, "cleanup", holder, deps.clock.now(), CLEANUP_LEASE_MS))) return null;
  try {
    return await runCleanup(deps, options);
  } finally {
    await releaseLease(deps.db, "cleanup", holder);
  }
}

/**
 * The retention job inside `famos serve`: a minute after start, then hourly. With several instances
 * on one database only the lease holder runs it. A failure is logged and tried again the next hour.
 */
export function scheduleCleanup(deps: Deps, options: { everyMs?: number; firstAfterMs?: number } = {}): { stop(): Promise<void> } {
  const holder = `serve-${randomId(deps.random, 6)}`;
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = cleanupOnce(deps, holder)
      .then((report) => {
        if (report) deps.logger.info({ cleanup: report }, "retention cleanup done");
      })
      .catch((error: unknown) => deps.logger.error({ err: error }, "retention cleanup failed"))
      .finally(() => (running = null));
  };
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    tick();
    interval = setInterval(tick, options.everyMs ?? HOUR);
    interval.unref();
  }, options.firstAfterMs ?? 60_000);
  first.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(interval);
      await running;
    },
  };
}
