/**
 * Preloaded into a server under valgrind by bench/instructions.ts (`--slow-timers <factor>`): timers of a
 * second or more, and the event loop sampler's resolution, stretched by the factor (valgrind's slowdown,
 * ~50), so that wall-clock work (the mail sender's 2 s poll, the idle collection's look every second, the
 * sampler) weighs per flow about what it does live instead of growing with the machine's load.
 * Plain JavaScript (the product's compiled build runs without a TypeScript loader).
 */
import { createRequire } from "node:module";

const factor = Number(process.env.BENCH_SLOW_TIMERS ?? "1");
if (factor > 1) {
  const stretch = (original) =>
    function (callback, delay, ...args) {
      return original.call(this, callback, typeof delay === "number" && delay >= 1000 ? delay * factor : delay, ...args);
    };
  globalThis.setInterval = stretch(globalThis.setInterval);
  globalThis.setTimeout = stretch(globalThis.setTimeout);
  const perfHooks = createRequire(import.meta.url)("node:perf_hooks");
  const monitor = perfHooks.monitorEventLoopDelay;
  perfHooks.monitorEventLoopDelay = (options = {}) => monitor({ ...options, resolution: (options.resolution ?? 10) * factor });
}
