/**
 * Ctrl-C (SIGINT) or a job runner's SIGTERM while `run` works: `stopping()` turns true, and the command
 * finishes what it has in hand (a mail, a batch of rows), says how far it got and what to run, and
 * exits 130, the shell's convention for a command ended by Ctrl-C. A second signal ends the process at
 * once, as usual; so do signals before and after `run`.
 */
export async function untilStopped<T>(run: (stopping: () => boolean) => Promise<T>): Promise<T> {
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    return await run(() => stopping);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** The exit status of a command that stopped early on a signal (untilStopped). */
export const STOPPED_EXIT_CODE = 130;
