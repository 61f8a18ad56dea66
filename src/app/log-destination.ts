import pino from "pino";

/** How long a log line may wait to be written with the ones after it. */
export const LOG_BATCH_MS = 50;

/**
 * Standard output for the server's JSON log lines, written in batches: every request logs a line,
 * and writing each on its own cost a system call (and a wake-up of the reader, journald or a pipe)
 * per line, about a tenth of the event loop's time in a sign-in (issue 17). Lines are collected for
 * at most LOG_BATCH_MS and handed over together; nothing is dropped, and whatever is pending when the
 * process exits (also through process.exit after a fatal error) is written synchronously first.
 * A warning or worse (pino level ≥ 40) is handed over at once, after the lines before it: an operator
 * watching the log, or a supervisor reading it, sees a failure when it happens.
 */
export function batchedStdout(): { write(line: string): void; flushSync(): void } {
  const out = pino.destination({ dest: 1, sync: false });
  let pending = "";
  let timer: NodeJS.Timeout | null = null;
  const hand = () => {
    timer = null;
    if (pending === "") return;
    const batch = pending;
    pending = "";
    out.write(batch);
  };
  const destination = {
    write(line: string) {
      pending += line;
      if (urgent(line)) {
        if (timer) clearTimeout(timer);
        hand();
        return;
      }
      timer ??= setTimeout(hand, LOG_BATCH_MS).unref();
    },
    flushSync() {
      if (timer) clearTimeout(timer);
      hand();
      out.flushSync();
    },
  };
  process.on("exit", () => {
    try {
      destination.flushSync();
    } catch {
      // Standard output is gone (a closed pipe): there is nowhere left to write.
    }
  });
  return destination;
}

/** pino's JSON lines begin with the level: `{"level":40,` and above is a warning, an error or fatal. */
export function urgent(line: string): boolean {
  if (!line.startsWith('{"level":')) return false;
  const level = Number.parseInt(line.slice(9, 12), 10);
  return level >= 40;
}
