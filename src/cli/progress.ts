import type { SingleBar } from "cli-progress";

/**
 * A progress bar on standard error for a long command (user import, rollout announcements), or null
 * when standard error is not a terminal (a pipeline, a log file). cli-progress is loaded only then:
 * `famos serve`, which never draws one, does not carry it in memory (issue 17: resident memory).
 */
export async function progressBar(format: string, wanted = true): Promise<SingleBar | null> {
  if (!wanted || !process.stderr.isTTY) return null;
  // Through a module of ours: a bundled CommonJS package imported dynamically gives only its default.
  const { SingleBar, Presets } = await import("./cli-progress.ts");
  return new SingleBar({ stream: process.stderr, format }, Presets.shades_classic);
}
