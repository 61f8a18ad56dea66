/**
 * Preloaded into a server under test (`node --import tsx --import ./bench/lib/probe.ts …`). When the
 * process has an IPC channel (it was forked by the bench), it answers `{ type: "bench-stats" }` with its
 * own `process.cpuUsage()` and memory figures. It changes nothing else in the server.
 */
import type { ServerStats } from "./proc.ts";

if (process.send !== undefined) {
  process.on("message", (msg: { type?: string; id?: number }) => {
    if (msg?.type !== "bench-stats") return;
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const stats: ServerStats = {
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      source: "process.cpuUsage",
    };
    process.send?.({ type: "bench-stats", id: msg.id, stats });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
}
