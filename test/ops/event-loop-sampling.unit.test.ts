import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMetrics, EVENT_LOOP_SAMPLE_MS } from "../../src/app/metrics.ts";

/**
 * Issue 17: prom-client's default metrics sample the event loop's delay (famos_nodejs_eventloop_lag_p50,
 * _p90, _p99, …) with a libuv timer, every 10 ms unless told: 100 wake-ups a second of the event loop,
 * idle or not (an idle `famos serve` woke ~170 times a second and spent ~10 ms of CPU a second).
 * FAMOS samples every EVENT_LOOP_SAMPLE_MS: the same metrics, from fewer samples.
 */
const perfHooks = createRequire(import.meta.url)("node:perf_hooks") as typeof import("node:perf_hooks");

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the event loop's delay, sampled", () => {
  it("every 100 ms, not prom-client's 10", () => {
    const monitor = vi.spyOn(perfHooks, "monitorEventLoopDelay");
    createMetrics(undefined, true);
    expect(monitor).toHaveBeenCalledTimes(1);
    expect(monitor.mock.calls[0]![0]).toEqual({ resolution: 100 });
    expect(EVENT_LOOP_SAMPLE_MS).toBe(100);
    // The histogram's timer, started by createMetrics, stops with the test.
    const result = monitor.mock.results[0];
    if (result?.type === "return") (result.value as { disable(): void }).disable();
  });
});
