/** Such events are told at most once in this time, with how many: not one line per event in a flood. */
export const FLOOD_REPORT_EVERY_MS = 1000;

export interface FloodReport {
  /** One more event: told at once when none was told in the last FLOOD_REPORT_EVERY_MS, else counted for the next line. */
  add(): void;
  /** Stops the timer and tells what is left untold (the app's close). */
  close(): void;
}

/**
 * Tells of events that may come in a flood (work dropped, handshakes refused) through `say`, which
 * logs one line with how many came: the first at once, then at most one line a FLOOD_REPORT_EVERY_MS
 * with how many came since the last; what is left untold when closed, then.
 */
export function floodReport(say: (count: number) => void): FloodReport {
  let untold = 0;
  let quiet: NodeJS.Timeout | null = null;
  const tell = () => {
    quiet = null;
    if (untold === 0) return;
    say(untold);
    untold = 0;
    quiet = setTimeout(tell, FLOOD_REPORT_EVERY_MS).unref();
  };
  return {
    add() {
      untold += 1;
      if (!quiet) tell();
    },
    close() {
      if (quiet) clearTimeout(quiet);
      quiet = null;
      if (untold > 0) say(untold);
      untold = 0;
    },
  };
}
