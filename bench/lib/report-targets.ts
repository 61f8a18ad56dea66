/**
 * The report's verdicts: issue 7's ratios against the raw limits (✓/✗ for the product), and issue 17's
 * targets, each a ratio from this one run with PASS or FAIL, then the floor's own rows ("out of reach
 * here" when even the floor misses a limit on this machine) and the product ÷ floor.
 */
import type { Argon2Result, FastifyResult } from "./measure.ts";
import type { LevelRecord, TargetRecord } from "./records.ts";
import { bound, MB, type Row } from "./report-table.ts";
import { fmt } from "./stats.ts";

/** Ratios against the limits and the targets of issue 7. */
export function ratioRows(records: TargetRecord[], argon2: Argon2Result | null, fastify: FastifyResult | null): Row[] {
  const product = records.find((r) => r.key === "product" && r.best);
  const peer = records.find((r) => r.key === "peer" && r.best);
  const rows: Row[] = [];
  const check = (ok: boolean | null): string => (ok === null ? "" : ok ? "✓" : "✗");
  for (const rec of [product, peer]) {
    if (!rec?.best) continue;
    const isProduct = rec.key === "product";
    const maxBeyond = Math.max(...rec.levels.map((l) => l.beyondHashMs));
    const halfP95 = rec.halfLoad?.result.metrics["code→smtp"]?.p95;
    const flowsVsArgon = argon2 ? rec.best.flowRate / argon2.perSecond : Number.NaN;
    const pwVsArgon = argon2 ? rec.best.passwordRate / argon2.perSecond : Number.NaN;
    const rss = keptRss(rec);
    rows.push(
      // Without the raw limits (--no-raw) there is no ratio to judge: no mark rather than a ✗.
      [rec.name, "complete flows/s ÷ raw argon2id verifies/s", fmt(flowsVsArgon), "≥ 0.6", isProduct ? check(argon2 ? flowsVsArgon >= 0.6 : null) : ""],
      [rec.name, "password steps/s ÷ raw argon2id verifies/s", fmt(pwVsArgon), "≥ 0.9", isProduct ? check(argon2 ? pwVsArgon >= 0.9 : null) : ""],
      [rec.name, "server CPU per flow beyond the hash (worst level), ms", fmt(maxBeyond), "≤ 3", isProduct ? check(maxBeyond <= 3) : ""],
      [rec.name, "code request → SMTP acceptance p95 at ½ max load, ms", fmt(halfP95), "≤ 250", isProduct && halfP95 !== undefined ? check(halfP95 <= 250) : ""],
      [
        rec.name,
        `RSS after ${rec.sessions?.flowsTotal ?? "?"} sessions${rssWhen(rec)}, MB`,
        fmt(rss === undefined ? undefined : rss / MB),
        "≤ 150 (after 10,000)",
        isProduct && rss !== undefined ? check(rss / MB <= 150 && (rec.sessions?.flowsTotal ?? 0) >= 10_000) : "",
      ],
    );
  }
  if (product?.best && peer?.best) {
    rows.push(["product ÷ peer", "complete flows/s", fmt(product.best.flowRate / peer.best.flowRate), "", ""]);
  }
  if (fastify) {
    for (const rec of [product, peer]) {
      if (!rec?.best) continue;
      const httpRate = Math.max(...rec.levels.map((l) => l.result.httpRate));
      rows.push([rec.name, "HTTP requests/s in flows ÷ bare Fastify req/s", fmt(httpRate / fastify.perSecond, 3), "", ""]);
    }
  }
  return rows;
}

/**
 * The memory the sessions leave: read after the server has idled (the settled reading) when the run
 * took one, else as the last session ended (results from before 2026-12-04 have only that one).
 */
function keptRss(rec: TargetRecord): number | undefined {
  return rec.sessions?.settled?.rssBytes ?? rec.sessions?.rssBytes;
}

/** When keptRss was read, and the other reading beside it; nothing for a run with only one. */
function rssWhen(rec: TargetRecord): string {
  const s = rec.sessions;
  if (!s?.settled) return "";
  const heap = s.heapUsedBytes === undefined ? "" : `, heap in use ${fmt(s.heapUsedBytes / MB)}`;
  return ` and ${fmt(s.settled.idleMs / 1000)} s without requests (as the last ended: ${fmt(s.rssBytes / MB)}${heap})`;
}

/** Issue 17's targets: each as a ratio from this one run, with PASS or FAIL; then the floor's rows. */
export function targetRows(records: TargetRecord[], argon2: Argon2Result | null, pgLevel: LevelRecord | null, pgError: string | null): Row[] {
  const product = records.find((r) => r.key === "product" && r.best);
  const peer = records.find((r) => r.key === "peer" && r.best);
  const rows: Row[] = [];
  const verdict = (ok: boolean | null): string => (ok === null ? "n/a" : ok ? "PASS" : "FAIL");
  if (product?.best) {
    const bestRec = product.levels.find((l) => l.concurrency === product.best!.concurrency) ?? product.levels[0]!;
    const worstCpu = Math.max(...product.levels.map((l) => l.serverCpuMsPerFlow));
    const cpuRatio = argon2 ? bestRec.serverCpuMsPerFlow / argon2.cpuMsPerVerify : null;
    const flowsRatio = argon2 ? product.best.flowRate / argon2.perSecond : null;
    const codeP95 = bestRec.result.metrics["code→smtp"]?.p95 ?? null;
    const passwordP95 = bestRec.result.steps.find((st) => st.role === "password")?.latency.p95 ?? null;
    const rss = keptRss(product);
    const enough = (product.sessions?.flowsTotal ?? 0) >= 10_000;
    rows.push(
      [
        `server CPU per complete flow ÷ one argon2id verify's CPU (best level ${bestRec.label}; worst level ${fmt(argon2 ? worstCpu / argon2.cpuMsPerVerify : null)})`,
        cpuRatio === null ? "–" : `${fmt(cpuRatio)} (${fmt(bestRec.serverCpuMsPerFlow)} ÷ ${fmt(argon2?.cpuMsPerVerify)} ms; event loop ${fmt(bestRec.eventLoopCpuMsPerFlow)} ms)`,
        "≤ 1.2",
        verdict(cpuRatio === null ? null : cpuRatio <= 1.2),
      ],
      [
        `complete flows/s at the best level ÷ raw argon2id verifies/s (${argon2?.concurrency ?? "?"} at once, the product's hash gate)`,
        flowsRatio === null ? "–" : `${fmt(flowsRatio)} (${fmt(product.best.flowRate)} ÷ ${fmt(argon2?.perSecond)})`,
        "≥ 0.8",
        verdict(flowsRatio === null ? null : flowsRatio >= 0.8),
      ],
      [
        `code request → SMTP acceptance p95 at the best level, ms (POST /login alone: p95 ${fmt(passwordP95)}; the mail from the code's creation, the server's own histogram: p95 ${bound(bestRec.serverCodeToSmtp?.p95)})`,
        fmt(codeP95),
        "≤ 100",
        verdict(codeP95 === null ? null : codeP95 <= 100),
      ],
      [`RSS after ${product.sessions?.flowsTotal ?? "?"} sessions${rssWhen(product)}, MB`, fmt(rss === undefined ? undefined : rss / MB), "≤ 150 after 10,000", verdict(rss === undefined || !enough ? null : rss / MB <= 150)],
    );
    if (pgLevel) {
      const r = pgLevel.serverCpuMsPerFlow / bestRec.serverCpuMsPerFlow;
      rows.push([`PostgreSQL CPU per flow ÷ SQLite's (${pgLevel.label}; FAMOS's process)`, `${fmt(r)} (${fmt(pgLevel.serverCpuMsPerFlow)} ÷ ${fmt(bestRec.serverCpuMsPerFlow)} ms)`, "≤ 1.5", verdict(r <= 1.5)]);
    } else {
      rows.push(["PostgreSQL CPU per flow ÷ SQLite's", pgError ? `not measured: ${pgError}` : "not measured (--no-postgres)", "≤ 1.5", "n/a"]);
    }
    if (peer?.best) rows.push(["better-auth (peer) flows/s at its best level, for comparison", `${fmt(peer.best.flowRate)} (product ÷ peer ${fmt(product.best.flowRate / peer.best.flowRate)})`, "", ""]);
  }
  // The floor's own figures against the same limits: a limit the floor misses is out of reach for any
  // server on this machine (the driver, the SMTP sink and the hashes share its cores); then the product
  // against the floor, both at their best levels.
  const floor = records.find((r) => r.key === "floor" && r.best);
  if (floor?.best) {
    const fBest = floor.levels.find((l) => l.concurrency === floor.best!.concurrency) ?? floor.levels[0]!;
    const reach = (ok: boolean | null): string => (ok === null ? "n/a" : ok ? "floor meets it" : "out of reach here");
    const fCpu = argon2 ? fBest.serverCpuMsPerFlow / argon2.cpuMsPerVerify : null;
    const fFlows = argon2 ? floor.best.flowRate / argon2.perSecond : null;
    const fCode = fBest.result.metrics["code→smtp"]?.p95 ?? null;
    rows.push(
      [
        `floor: server CPU per complete flow ÷ one argon2id verify's CPU (best level ${fBest.label})`,
        fCpu === null ? "–" : `${fmt(fCpu)} (${fmt(fBest.serverCpuMsPerFlow)} ÷ ${fmt(argon2?.cpuMsPerVerify)} ms; event loop ${fmt(fBest.eventLoopCpuMsPerFlow)} ms)`,
        "≤ 1.2",
        reach(fCpu === null ? null : fCpu <= 1.2),
      ],
      [
        `floor: complete flows/s at its best level ÷ raw argon2id verifies/s`,
        fFlows === null ? "–" : `${fmt(fFlows)} (${fmt(floor.best.flowRate)} ÷ ${fmt(argon2?.perSecond)})`,
        "≥ 0.8",
        reach(fFlows === null ? null : fFlows >= 0.8),
      ],
      [
        // Little's law: in a closed loop of N users a flow takes N ÷ flows/s, whatever the server does.
        `floor: code request → SMTP acceptance p95 at its best level, ms (${fBest.label}: a flow takes ${fmt(fBest.concurrency)} ÷ ${fmt(fBest.result.flowRate)}/s = ${fmt((fBest.concurrency / Math.max(1e-9, fBest.result.flowRate)) * 1000)} ms by Little's law)`,
        fmt(fCode),
        "≤ 100",
        reach(fCode === null ? null : fCode <= 100),
      ],
    );
    if (product?.best) {
      const pBest = product.levels.find((l) => l.concurrency === product.best!.concurrency) ?? product.levels[0]!;
      rows.push(
        [
          "product ÷ floor: server CPU per flow beyond the hash (best levels)",
          `${fmt(pBest.beyondHashMs / fBest.beyondHashMs)} (${fmt(pBest.beyondHashMs)} ÷ ${fmt(fBest.beyondHashMs)} ms; event loop ${fmt(pBest.eventLoopCpuMsPerFlow)} ÷ ${fmt(fBest.eventLoopCpuMsPerFlow)} ms)`,
          "",
          "",
        ],
        ["product ÷ floor: server CPU per complete flow (best levels)", `${fmt(pBest.serverCpuMsPerFlow / fBest.serverCpuMsPerFlow)} (${fmt(pBest.serverCpuMsPerFlow)} ÷ ${fmt(fBest.serverCpuMsPerFlow)} ms)`, "", ""],
        ["product ÷ floor: complete flows/s (best levels)", `${fmt(product.best.flowRate / floor.best.flowRate)} (${fmt(product.best.flowRate)} ÷ ${fmt(floor.best.flowRate)})`, "", ""],
        [
          "product ÷ floor: code request → SMTP acceptance p95 (best levels)",
          `${fmt((pBest.result.metrics["code→smtp"]?.p95 ?? Number.NaN) / (fCode ?? Number.NaN))} (${fmt(pBest.result.metrics["code→smtp"]?.p95)} ÷ ${fmt(fCode)} ms)`,
          "",
          "",
        ],
      );
    }
  }
  return rows;
}
