/**
 * Preloaded into a server under test (`node --import ./bench/lib/probe.mjs …`). Plain JavaScript, so
 * it loads into a server that runs without a TypeScript loader (the product's compiled build). When the
 * process has an IPC channel (it was forked by the bench), it answers `{ type: "bench-stats" }` with its
 * own `process.cpuUsage()` and memory figures (the shape of `ServerStats` in proc.ts). It changes nothing
 * else in the server.
 */
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
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      source: "process.cpuUsage",
    };
    process.send?.({ type: "bench-stats", id: msg.id, stats });
  });
  // The channel must not keep a process alive that would otherwise exit.
  process.channel?.unref();
}
