import { terminalText } from "../platform/terminal-text.ts";

/** Rows as aligned columns (the last column is not padded), for operators' tables on a terminal; cells as terminalText. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((row) => row.map(terminalText));
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd();
  return all.map(line).join("\n") + "\n";
}
