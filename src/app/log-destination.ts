import { write, writeSync } from "node:fs";

/** How long a log line may wait to be written with the ones after it. */
export const LOG_BATCH_MS = 50;

/** How long to wait before writing again to a non-blocking pipe that is full (EAGAIN): its reader is behind. */
const FULL_PIPE_RETRY_MS = 100;

/** At exit, how many times to wait 10 ms for a full pipe before leaving its last lines unwritten. */
const EXIT_FULL_PIPE_TRIES = 100;

const STDOUT = 1;
const STDERR = 2;

/**
 * Standard output for the server's JSON log lines, written in batches: every request logs a line,
 * and writing each on its own cost a system call (and a wake-up of the reader, journald or a pipe)
 * per line, about a tenth of the event loop's time in a sign-in (issue 17). Lines are collected for
 * at most LOG_BATCH_MS and handed over together; whatever is pending when the process exits (also
 * through process.exit after a fatal error) is written synchronously first.
 * A warning or worse (pino level ≥ 40) is handed over at once, after the lines before it: an operator
 * watching the log, or a supervisor reading it, sees a failure when it happens.
 *
 * Standard output may fail: a pipe whose reader went away (`famos serve | filter` whose filter died,
 * a log shipper restarted: EPIPE), a file on a full disk (ENOSPC), a device error. The server is
 * worth more than its log: at the first failed write the lines are dropped from then on (a pipe's
 * reader never comes back, and writing again would only fail again), and it is said once on standard
 * error, if that is still there. Before, pino.destination (sonic-boom) ended the process at any such
 * error but EPIPE, and its exit flush then retried the failed write forever (sonic-boom 4.2.1's
 * flushSync sleeps and retries every error, not only EAGAIN): a server that neither answered nor ended.
 */
export function batchedStdout(): { write(line: string): void; flushSync(): void } {
  let pending = "";
  let timer: NodeJS.Timeout | null = null;
  /** Batches handed over and not yet written, oldest first. */
  let queued: Buffer[] = [];
  let writing = false;
  let lost = false;

  const fail = (error: NodeJS.ErrnoException) => {
    if (lost) return;
    lost = true;
    pending = "";
    queued = [];
    if (timer) clearTimeout(timer);
    try {
      writeSync(STDERR, `FAMOS: standard output failed (${error.code ?? error.message}); log lines are lost from now on (restart famos serve to log again)\n`);
    } catch {
      // Standard error is gone too: nobody is left to tell.
    }
  };
  const writeNext = () => {
    writing = !lost && queued.length > 0;
    if (!writing) return;
    const buffer = queued.length === 1 ? queued[0]! : Buffer.concat(queued);
    queued = [];
    write(STDOUT, buffer, (error, written) => {
      if (error?.code === "EAGAIN") {
        queued.unshift(buffer);
        setTimeout(writeNext, FULL_PIPE_RETRY_MS).unref();
        return;
      }
      if (error) fail(error);
      else if (written < buffer.length) queued.unshift(buffer.subarray(written));
      writeNext();
    });
  };
  const hand = () => {
    timer = null;
    if (pending === "" || lost) return;
    queued.push(Buffer.from(pending));
    pending = "";
    if (!writing) writeNext();
  };
  const destination = {
    write(line: string) {
      if (lost) return;
      pending += line;
      if (urgent(line)) {
        if (timer) clearTimeout(timer);
        hand();
        return;
      }
      timer ??= setTimeout(hand, LOG_BATCH_MS).unref();
    },
    /** Writes what is pending now, synchronously. A write already in flight is the thread pool's to finish. */
    flushSync() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (pending !== "" && !lost) queued.push(Buffer.from(pending));
      pending = "";
      const batches = queued;
      queued = [];
      for (const batch of batches) if (!writeAllSync(batch, fail)) return;
    },
  };
  process.on("exit", () => destination.flushSync());
  return destination;
}

/** Writes `buffer` to standard output, waiting a little for a full pipe; false (after `fail`) when it cannot. */
function writeAllSync(buffer: Buffer, fail: (error: NodeJS.ErrnoException) => void): boolean {
  let at = 0;
  let tries = 0;
  while (at < buffer.length) {
    try {
      at += writeSync(STDOUT, buffer, at);
    } catch (error) {
      const failure = error as NodeJS.ErrnoException;
      if (failure.code !== "EAGAIN" || (tries += 1) > EXIT_FULL_PIPE_TRIES) {
        fail(failure);
        return false;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return true;
}

/** pino's JSON lines begin with the level: `{"level":40,` and above is a warning, an error or fatal. */
export function urgent(line: string): boolean {
  if (!line.startsWith('{"level":')) return false;
  const level = Number.parseInt(line.slice(9, 12), 10);
  return level >= 40;
}
