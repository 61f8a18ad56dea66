import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bestLevel, parseResults, type BenchResults, type LevelRecord } from "../../bench/lib/records.ts";
import { renderReport } from "../../bench/lib/report.ts";

// The newest committed run of `npm run bench`: its results file and the report run.ts wrote beside it.
// That file predates the PostgreSQL level in the results, so it holds everything but that run.
const RUN = new URL("../../bench/results/2026-12-03T23-18-28Z", import.meta.url).pathname;
const committedJson = readFileSync(`${RUN}.json`, "utf8");
const committedMd = readFileSync(`${RUN}.md`, "utf8");

const PG_TITLE = "FAMOS 2FA (product, PostgreSQL)";
const PG_ROW = "| PostgreSQL CPU per flow ÷ SQLite's";

/** The report's title line and header list, then each `## title` section's body, by title. */
function split(md: string): { header: string; sections: Map<string, string> } {
  const [header, ...rest] = md.split("\n## ");
  return { header: header!, sections: new Map(rest.map((s) => [s.slice(0, s.indexOf("\n")), s.slice(s.indexOf("\n") + 1)])) };
}

/**
 * The PostgreSQL level as the committed report printed it, read back from its row in that report
 * (`| c=4 PostgreSQL | 44.7 | 86.7 / 120 | 52.5 / 81.2 | 26.7 | 11.0 | 0 | 0.56 |`). The report
 * shows only these figures, so the rest of the record is left empty.
 */
function pgLevelFromMd(md: string): LevelRecord {
  const row = split(md).sections.get(PG_TITLE)!.trim().split("\n").at(-1)!;
  const [label, flows, flowLatency, codeToSmtp, cpu, eventLoop, errors, other] = row.slice(2, -2).split(" | ");
  const [p50, p95] = flowLatency!.split(" / ").map(Number);
  const [c50, c95] = codeToSmtp!.split(" / ").map(Number);
  const concurrency = Number(label!.match(/^c=(\d+)/)![1]);
  const summary = (a: number, b: number) => ({ count: 1, mean: a, p50: a, p95: b, p99: b, max: b });
  return {
    label: label!,
    concurrency,
    result: {
      label: label!,
      concurrency,
      elapsedMs: 20_000,
      flowsOk: 1,
      flowsFailed: 0,
      flowsTotal: 1,
      flowRate: Number(flows),
      httpRate: 0,
      flowLatency: summary(p50!, p95!),
      steps: [],
      roleRates: {},
      metrics: { "code→smtp": summary(c50!, c95!) },
      errors: {},
      errorCount: Number(errors),
      driverCpuMs: 0,
      mailsReceived: 1,
    },
    serverCpuMsPerFlow: Number(cpu),
    eventLoopCpuMsPerFlow: Number(eventLoop),
    beyondHashMs: 0,
    rssAtCloseBytes: 0,
    rssPeakBytes: 0,
    machineBusyCores: null,
    otherCores: Number(other),
    serverCodeToSmtp: null,
  };
}

describe("the bench report, rendered from a results file", () => {
  const results: BenchResults = parseResults(committedJson);

  it("reads a results file written before the PostgreSQL level was kept as a run without it", () => {
    expect(results.postgres).toEqual({ level: null, error: null });
  });

  it("is the committed report, section for section, but for the PostgreSQL run the file did not keep", () => {
    const rendered = split(renderReport(results).md);
    const committed = split(committedMd);
    expect(rendered.header).toBe(committed.header);
    expect([...rendered.sections.keys()]).toEqual([...committed.sections.keys()].filter((title) => title !== PG_TITLE));
    for (const [title, body] of rendered.sections) {
      if (title === "Targets (issue 17)") continue;
      expect(body, title).toBe(committed.sections.get(title));
    }
    const withoutPgRow = (body: string): string[] => body.split("\n").filter((line) => !line.startsWith(PG_ROW));
    const targets = rendered.sections.get("Targets (issue 17)")!;
    expect(withoutPgRow(targets)).toEqual(withoutPgRow(committed.sections.get("Targets (issue 17)")!));
    expect(targets).toContain(`${PG_ROW} | not measured (--no-postgres) | ≤ 1.5 | n/a |`);
  });

  it("with the PostgreSQL level given, is the committed report byte for byte", () => {
    const pg = pgLevelFromMd(committedMd);
    expect(renderReport({ ...results, postgres: { level: pg, error: null } }).md).toBe(committedMd);
  });

  it("keeps the PostgreSQL level through the results file", () => {
    const full: BenchResults = { ...results, postgres: { level: pgLevelFromMd(committedMd), error: null } };
    expect(renderReport(parseResults(JSON.stringify(full, null, 2))).md).toBe(committedMd);
  });

  it("names why PostgreSQL was not measured when its run failed", () => {
    const report = renderReport({ ...results, postgres: { level: null, error: "connect ECONNREFUSED 127.0.0.1:5432" } });
    expect(report.md).toContain(`${PG_ROW} | not measured: connect ECONNREFUSED 127.0.0.1:5432 | ≤ 1.5 | n/a |`);
    expect(report.md).not.toContain(`## ${PG_TITLE}`);
  });

  it("gives the header and each section as text too: the md's lines, and tables padded into columns", () => {
    const report = renderReport(results);
    expect(report.header[0]).toBe("FAMOS bench 2026-12-03T23:18:28.175Z (528 s)");
    expect(committedMd.startsWith([`# ${report.header[0]}`, "", ...report.header.slice(1).map((h) => `- ${h}`)].join("\n"))).toBe(true);
    expect(report.sections.map((s) => s.title)).toEqual([...split(report.md).sections.keys()]);
    const raw = report.sections[0]!.text.split("\n");
    expect(new Set(raw.map((line) => line.length)).size).toBe(1);
    expect(raw[2]).toMatch(/^argon2id verify \(19 MiB, t=2, p=1\) +134\/s +2 at once \(pool 4\), 13\.6 ms CPU each$/);
    expect(report.warning).toBeNull();
  });

  it("without the raw limits (--no-raw), judges no ratio to them: the issue 7 rows carry no mark, the issue 17 rows say n/a", () => {
    const report = renderReport({ ...results, raw: { argon2: null, fastify: null } });
    const ratios = split(report.md).sections.get("Ratios and targets (issue 7)")!.split("\n").filter((line) => line.includes("÷ raw argon2id"));
    expect(ratios.length).toBeGreaterThan(0);
    for (const line of ratios) expect(line).toMatch(/\| – \| [≥≤] [\d.]+ \| {2}\|$/);
    expect(split(report.md).sections.has("Raw limits")).toBe(false);
  });

  it("judges memory on the reading after the server idled, and shows the reading as the last session ended beside it", () => {
    const MiB = 2 ** 20;
    const targets = results.targets.map((r) =>
      r.key === "product" ? { ...r, sessions: { flowsTotal: 10_000, rssBytes: 168 * MiB, heapUsedBytes: 76 * MiB, elapsedMs: 1, settled: { rssBytes: 130 * MiB, idleMs: 12_000 } } } : r,
    );
    const md = renderReport({ ...results, targets }).md;
    const label = "RSS after 10000 sessions and 12.0 s without requests (as the last ended: 168, heap in use 76.0), MB";
    expect(md).toContain(`| ${label} | 130 | ≤ 150 after 10,000 | PASS |`);
    expect(md).toContain(`| FAMOS 2FA (product) | ${label} | 130 | ≤ 150 (after 10,000) | ✓ |`);
    expect(md).toContain("- RSS after 10000 sessions: 168 MB as the last ended, 130 MB after 12.0 s without requests");
    const over = targets.map((r) => (r.key === "product" && r.sessions?.settled ? { ...r, sessions: { ...r.sessions, settled: { rssBytes: 151 * MiB, idleMs: 12_000 } } } : r));
    expect(renderReport({ ...results, targets: over }).md).toMatch(/as the last ended: 168, heap in use 76\.0\), MB \| 151 \| ≤ 150 after 10,000 \| FAIL \|/);
  });

  it("warns of the levels where other processes took more than the noisy-cores threshold", () => {
    const report = renderReport({ ...results, noisyCores: 0.06 });
    const warning = "other processes took more than 0.06 cores during: FAMOS 2FA (product) ½ load 37.5/s, floor (bare Fastify + one argon2id verify + one mail, no storage) ½ load 56.8/s, better-auth (peer) ½ load 28.6/s — those figures are low";
    expect(report.warning).toBe(warning);
    expect(report.sections.map((s) => s.title)).toContain("Warning");
    expect(report.md).toContain(`## Warning\n\n${warning}\n`);
  });
});

describe("bestLevel: the fewest virtual users within 5% of the highest flows/s", () => {
  const level = (concurrency: number, flowRate: number) => ({ concurrency, result: { flowRate } });

  it("is the smallest level when the larger ones add no flows", () => {
    expect(bestLevel([level(4, 75.1), level(8, 74.7), level(16, 73.6)]).concurrency).toBe(4);
  });

  it("is the highest level while flows still grow past 5%", () => {
    expect(bestLevel([level(4, 46.4), level(8, 49.0), level(16, 57.3)]).concurrency).toBe(16);
  });

  it("counts a level at exactly 95% of the top as within the knee", () => {
    expect(bestLevel([level(4, 95), level(8, 100)]).concurrency).toBe(4);
    expect(bestLevel([level(4, 94.9), level(8, 100)]).concurrency).toBe(8);
  });

  it("takes the fewest users whatever the order of the levels, and leaves the list as it was", () => {
    const levels = [level(16, 100), level(8, 99), level(4, 60)];
    expect(bestLevel(levels).concurrency).toBe(8);
    expect(levels.map((l) => l.concurrency)).toEqual([16, 8, 4]);
  });
});
