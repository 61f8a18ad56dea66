/**
 * `npm run bench`'s report, rendered from its results (bench/lib/records.ts): the header lines, then the
 * raw limits, a table per target, a warning for noisy levels, issue 7's ratios, the PostgreSQL run and
 * issue 17's targets, each section as padded text for the terminal and as Markdown; and the whole .md
 * file. Pure: the same results give the same report, now or from a results file later.
 */
import { KNEE, type BenchResults, type TargetRecord } from "./records.ts";
import { ratioRows, targetRows } from "./report-targets.ts";
import { bound, MB, renderTable } from "./report-table.ts";
import { fmt } from "./stats.ts";

export interface ReportSection {
  title: string;
  text: string;
  md: string;
}

export interface Report {
  header: string[];
  sections: ReportSection[];
  /** Which levels other processes took more than the noisy-cores threshold from, or null. */
  warning: string | null;
  /** The .md file. */
  md: string;
}

export function renderReport(results: BenchResults): Report {
  const { machine, loadAtStart, options: opts, targets: records } = results;
  const { argon2, fastify } = results.raw;
  const { level: pgLevel, error: pgError } = results.postgres;
  const sections: ReportSection[] = [];

  if (argon2 && fastify) {
    sections.push({
      title: "Raw limits",
      ...renderTable(
        ["limit", "figure", "detail"],
        [
          ["argon2id verify (19 MiB, t=2, p=1)", `${fmt(argon2.perSecond)}/s`, `${argon2.concurrency} at once (pool ${argon2.threadpool}), ${fmt(argon2.cpuMsPerVerify)} ms CPU each`],
          ["bare Fastify 5 route", `${fmt(fastify.perSecond)} req/s`, `${fastify.connections} connections, p99 ${fmt(fastify.latencyP99Ms)} ms, ${fmt(fastify.serverCpuUsPerRequest)} µs server CPU each`],
        ],
      ),
    });
  }
  for (const rec of records) sections.push(targetSection(rec));

  const noisy = records.flatMap((r) => [...r.levels, ...(r.halfLoad ? [r.halfLoad] : [])].filter((l) => (l.otherCores ?? 0) > results.noisyCores).map((l) => `${r.name} ${l.label}`));
  const warning = noisy.length ? `other processes took more than ${results.noisyCores} cores during: ${noisy.join(", ")} — those figures are low` : null;
  if (warning) sections.push({ title: "Warning", text: warning, md: warning });
  const ratios = ratioRows(records, argon2, fastify);
  if (ratios.length) sections.push({ title: "Ratios and targets (issue 7)", ...renderTable(["system", "figure", "value", "target", ""], ratios) });

  const targets = targetRows(records, argon2, pgLevel, pgError);
  if (pgLevel) {
    const r = pgLevel.result;
    const code = r.metrics["code→smtp"];
    sections.push({
      title: "FAMOS 2FA (product, PostgreSQL)",
      ...renderTable(
        ["load", "flows/s", "flow p50/p95 ms", "code→SMTP p50/p95 ms", "CPU ms/flow", "event loop ms/flow", "errors", "other CPU"],
        [[pgLevel.label, fmt(r.flowRate), `${fmt(r.flowLatency.p50)} / ${fmt(r.flowLatency.p95)}`, `${fmt(code?.p50)} / ${fmt(code?.p95)}`, fmt(pgLevel.serverCpuMsPerFlow), fmt(pgLevel.eventLoopCpuMsPerFlow), String(r.errorCount), pgLevel.otherCores === null ? "–" : fmt(pgLevel.otherCores)]],
      ),
    });
  }
  if (targets.length) sections.push({ title: "Targets (issue 17)", ...renderTable(["target", "measured", "limit", "verdict"], targets) });

  const startedAt = new Date(results.startedAt);
  const finishedAt = new Date(results.finishedAt);
  const header = [
    `FAMOS bench ${startedAt.toISOString()} (${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s)`,
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${fmt(machine.memoryBytes / 2 ** 30, 1)} GiB RAM, ${machine.platform} ${machine.release}, Node ${machine.node}, UV_THREADPOOL_SIZE ${machine.threadpool}`,
    `load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}; "other CPU" = cores busy machine-wide beyond the server and the driver during the window`,
    `best level: the fewest virtual users within ${Math.round((1 - KNEE) * 100)}% of the highest flows/s; "event loop" = the server's main thread alone (the hashes run on other threads)`,
    `flows: complete sign-ins over HTTP (keep-alive, a cookie jar per virtual user) with the code read from a real SMTP server; levels ${opts.levels.join(", ")} virtual users × ${opts.durationMs / 1000} s after ${opts.warmupMs / 1000} s warm-up${opts.warmFlows > 0 ? `, each server warmed first by ${opts.warmFlows} uncounted flows at the highest level` : ""}; ${opts.users} users`,
  ];
  const md = [`# ${header[0]}`, "", ...header.slice(1).map((h) => `- ${h}`), ...sections.flatMap((s) => ["", `## ${s.title}`, "", s.md])].join("\n") + "\n";
  return { header, sections, warning, md };
}

/** A target's table of levels (and half load), its steps' latencies, and its notes; or why it failed. */
function targetSection(rec: TargetRecord): ReportSection {
  if (rec.error && rec.levels.length === 0) {
    return { title: rec.name, text: `FAILED: ${rec.error.split("\n")[0]}`, md: `FAILED: \`${rec.error.split("\n")[0]}\`` };
  }
  const levels = [...rec.levels, ...(rec.halfLoad ? [rec.halfLoad] : [])];
  const rows = levels.map((l) => {
    const x = l.result;
    const code = x.metrics["code→smtp"];
    return [
      l.label,
      fmt(x.flowRate),
      fmt(x.roleRates.password),
      fmt(x.roleRates.confirm),
      `${fmt(x.flowLatency.p50)} / ${fmt(x.flowLatency.p95)} / ${fmt(x.flowLatency.p99)}`,
      `${fmt(code?.p50)} / ${fmt(code?.p95)}` + (l.serverCodeToSmtp ? ` (from the code ${bound(l.serverCodeToSmtp.p50)} / ${bound(l.serverCodeToSmtp.p95)})` : ""),
      fmt(l.serverCpuMsPerFlow),
      fmt(l.eventLoopCpuMsPerFlow),
      fmt(l.beyondHashMs),
      fmt(x.driverCpuMs / Math.max(1, x.flowsOk)),
      fmt(l.rssPeakBytes / MB),
      String(x.errorCount),
      l.otherCores === null ? "–" : fmt(l.otherCores),
    ];
  });
  const t = renderTable(
    ["load", "flows/s", "password/s", "codes/s", "flow p50/p95/p99 ms", "code→SMTP p50/p95 ms", "CPU ms/flow", "event loop ms/flow", "beyond hash", "driver ms/flow", "RSS peak MB", "errors", "other CPU"],
    rows,
  );
  const stepRows = (levels[0]?.result.steps ?? []).map((s, i) => [
    s.name,
    ...levels.map((l) => {
      const st = l.result.steps[i];
      return st ? `${fmt(st.latency.p50)} / ${fmt(st.latency.p95)} / ${fmt(st.latency.p99)}` : "–";
    }),
  ]);
  const st = renderTable(["step p50 / p95 / p99 ms", ...levels.map((l) => l.label)], stepRows);
  const extra = [
    ...rec.notes,
    rec.sessions
      ? `RSS after ${rec.sessions.flowsTotal} sessions: ${fmt(rec.sessions.rssBytes / MB)} MB` +
        (rec.sessions.settled ? ` as the last ended, ${fmt(rec.sessions.settled.rssBytes / MB)} MB after ${fmt(rec.sessions.settled.idleMs / 1000)} s without requests` : "")
      : "",
    ...(rec.error ? [`error: ${rec.error.split("\n")[0]}`] : []),
  ].filter(Boolean);
  return {
    title: rec.name,
    text: `${t.text}\n\n${st.text}\n${extra.map((e) => `  ${e}`).join("\n")}`,
    md: `${t.md}\n\n${st.md}\n\n${extra.map((e) => `- ${e}`).join("\n")}`,
  };
}
