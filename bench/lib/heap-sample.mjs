/**
 * Preloaded (`node --import ./bench/lib/heap-sample.mjs …`) to record where a process allocates: V8's
 * sampling heap profiler from the start, keeping the samples of objects that minor and major GCs have
 * already collected (the garbage is the point: issue 17's GC share), written when the event loop empties
 * to HEAP_SAMPLE_OUT (default `<os.tmpdir()>/heap-<pid>.json`, a sampling heap profile's JSON). Read
 * with bench/heap-share.ts. HEAP_SAMPLE_INTERVAL: bytes between samples (default 4096).
 *
 *   HEAP_SAMPLE_OUT=/tmp/h.json node --import tsx --import ./bench/lib/heap-sample.mjs bench/app-cpu.ts --flows 600 --warmup 200
 */
import inspector from "node:inspector";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const session = new inspector.Session();
session.connect();
session.post("HeapProfiler.enable");
session.post("HeapProfiler.startSampling", {
  samplingInterval: Number(process.env.HEAP_SAMPLE_INTERVAL ?? 4096),
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
let written = false;
process.on("beforeExit", () => {
  if (written) return;
  written = true;
  session.post("HeapProfiler.stopSampling", (error, result) => {
    if (error) throw error;
    writeFileSync(process.env.HEAP_SAMPLE_OUT ?? join(tmpdir(), `heap-${process.pid}.json`), JSON.stringify(result.profile));
  });
});
