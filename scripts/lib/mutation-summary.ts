import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The part of Stryker's JSON report (mutation-testing-report-schema) the summary reads. */
interface Report {
  files: Record<string, { mutants: Array<{ mutatorName: string; replacement?: string; status: string; location: Record<"start" | "end", { line: number; column: number }> }> }>;
}

interface FileScore {
  file: string;
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  errors: number;
  survivors: string[];
}

/** Mutation score as Stryker computes it: detected ÷ (detected + undetected), compile and runtime errors left out. */
export function score(f: Pick<FileScore, "killed" | "survived" | "noCoverage" | "timeout">): number {
  const detected = f.killed + f.timeout;
  const total = detected + f.survived + f.noCoverage;
  return total === 0 ? 100 : (100 * detected) / total;
}

/**
 * Merges every group-*.json in `dir` into a Markdown summary. Reports are read in the order they were written and a
 * mutant (file, place, mutator, replacement) seen again takes its later status, so a re-run of the
 * survivors alone (`--mutate "src/x.ts:34:1-34:80"`) updates them.
 */
export function writeMutationSummary(dir: string, out: string): string {
  const mutants = new Map<string, { file: string; line: number; column: number; mutatorName: string; replacement: string; status: string }>();
  // In the order they were written (a survivors' re-run is named after its ranges, which can sort before its group).
  const reports = readdirSync(dir)
    .filter((name) => /^group-.*\.json$/.test(name))
    .sort((a, b) => statSync(join(dir, a)).mtimeMs - statSync(join(dir, b)).mtimeMs || a.localeCompare(b));
  for (const name of reports) {
    const report = JSON.parse(readFileSync(join(dir, name), "utf8")) as Report;
    for (const [file, entry] of Object.entries(report.files)) {
      for (const m of entry.mutants) {
        const { line, column } = m.location.start;
        const replacement = m.replacement ?? "";
        const { end } = m.location;
        const key = `${file}:${line}:${column}-${end.line}:${end.column}:${m.mutatorName}:${replacement}`;
        // A run over ranges reports the rest of the file as Ignored or not compiled: that says
        // nothing about mutants an earlier run tested.
        if (!["Killed", "Timeout", "Survived", "NoCoverage"].includes(m.status) && mutants.has(key)) continue;
        mutants.set(key, { file, line, column, mutatorName: m.mutatorName, replacement, status: m.status });
      }
    }
  }
  const files = new Map<string, FileScore>();
  for (const m of [...mutants.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)) {
    let f = files.get(m.file);
    if (!f) files.set(m.file, (f = { file: m.file, killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0, survivors: [] }));
    if (m.status === "Killed") f.killed++;
    else if (m.status === "Timeout") f.timeout++;
    else if (m.status === "Survived" || m.status === "NoCoverage") {
      if (m.status === "Survived") f.survived++;
      else f.noCoverage++;
      const shown = m.replacement.replace(/\s+/g, " ").slice(0, 80).replace(/`/g, "'");
      f.survivors.push(`${m.file}:${m.line}:${m.column} ${m.mutatorName}${m.status === "NoCoverage" ? " (no coverage)" : ""}: \`${shown}\``);
    } else f.errors++;
  }
  const rows = [...files.values()].sort((a, b) => a.file.localeCompare(b.file));
  const all = rows.reduce((sum, f) => ({ killed: sum.killed + f.killed, survived: sum.survived + f.survived, noCoverage: sum.noCoverage + f.noCoverage, timeout: sum.timeout + f.timeout }), { killed: 0, survived: 0, noCoverage: 0, timeout: 0 });
  const lines = [
    "# Mutation testing: the security core",
    "",
    "Written by `npm run mutation` (StrykerJS over the unit tier, `stryker.config.mjs`) from the JSON reports in",
    "`reports/mutation/`. Score = killed (or timed out) ÷ all mutants that compiled. Surviving mutants that",
    "no test can kill are explained in SECURITY.md, \"Mutation testing\".",
    "",
    "| file | mutants | killed | timed out | survived | no coverage | score |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((f) => `| \`${f.file}\` | ${f.killed + f.timeout + f.survived + f.noCoverage} | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${score(f).toFixed(1)} % |`),
    `| **all** | ${all.killed + all.timeout + all.survived + all.noCoverage} | ${all.killed} | ${all.timeout} | ${all.survived} | ${all.noCoverage} | **${score(all).toFixed(1)} %** |`,
    "",
    "## Surviving mutants",
    "",
    ...(rows.some((f) => f.survivors.length) ? rows.flatMap((f) => f.survivors.map((s) => `- ${s}`)) : ["None."]),
    "",
  ];
  writeFileSync(out, lines.join("\n"));
  return lines.slice(6, 8 + rows.length + 1).join("\n");
}
