/**
 * Preloaded into a server under test (`node --import ./bench/lib/probe.mjs …`). Plain JavaScript, so
 * it loads into a server that runs without a TypeScript loader (the product's compiled build). When the
 * process has an IPC channel (it was forked by the bench), it answers `{ type: "bench-stats" }` with its
 * own `process.cpuUsage()` and memory figures (the shape of `ServerStats` in proc.ts). It changes nothing
 * else in the server.
 */
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { readdirSync, readFileSync } from "node:fs";

/** CPU of the main thread alone (the event loop: everything but the thread pool's hashing), ms; null off Linux. */
function mainThreadCpuMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** Names of this process's threads by thread id (Linux: V8's GC helpers are "V8 DefaultWorke", libuv's pool unnamed in Node 20). */
const threadNames = {};

/** CPU of each thread of this process, ms, by thread id (Linux); fills threadNames as it reads. */
function threadCpuMs() {
  const out = {};
  try {
    for (const tid of readdirSync("/proc/self/task")) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      threadNames[tid] = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[tid] = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    }
  } catch {
    // not Linux
  }
  return out;
}

if (process.send !== undefined) {
  process.on("message", (msg) => {
    if (msg?.type !== "bench-stats") return;
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const stats = {
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      // Off V8's heap: what V8 itself mallocs, what embedders report as external, and ArrayBuffers (Buffers).
      mallocedBytes: getHeapStatistics().malloced_memory,
      externalBytes: mem.external,
      arrayBuffersBytes: mem.arrayBuffers,
      // What each V8 space has taken from the system (space_size), beside what it uses.
      heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }])),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      mainThreadCpuMs: mainThreadCpuMs(),
      threadCpuMs: threadCpuMs(),
      threadNames,
      source: "process.cpuUsage",
    };
    process.send?.({ type: "bench-stats", id: msg.id, stats });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
}
