/** The report's tables: padded columns for the terminal and a Markdown table for the .md file. */
import { fmt } from "./stats.ts";

export type Row = string[];

export function renderTable(headers: string[], rows: Row[]): { text: string; md: string } {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: Row): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const text = [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
  const md = [`| ${headers.join(" | ")} |`, `| ${headers.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  return { text, md };
}

export const MB = 2 ** 20;

/** "≤ 25" from a bucket bound, or "–". */
export const bound = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "–" : `≤ ${fmt(ms)}`);
