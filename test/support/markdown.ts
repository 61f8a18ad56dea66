import { readFileSync } from "node:fs";

/** README.md or SECURITY.md of this checkout. */
export function readDoc(name: "README.md" | "SECURITY.md"): string {
  return readFileSync(new URL(`../../${name}`, import.meta.url), "utf8");
}

const FENCE = /^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;

/**
 * The code of a Markdown text, where it names commands and metrics: each line of a fenced block (a
 * shell line continued with `\` joined to the next), and each inline code span, which may wrap over
 * lines (joined with a space) and, in a table, writes `|` as `\|`.
 */
export function codeOf(markdown: string): string[] {
  const code: string[] = [];
  for (const block of markdown.matchAll(FENCE)) code.push(...block[1]!.replace(/\\\n\s*/g, " ").split("\n"));
  const prose = markdown.replace(FENCE, "");
  // CommonMark: a span opens and closes with runs of the same number of backticks.
  for (const span of prose.matchAll(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) code.push(span[2]!.replace(/\s*\n\s*/g, " ").replaceAll("\\|", "|").trim());
  return code;
}

/** The text under a heading (given without its #s), up to the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const start = new RegExp(`^(#+) ${heading.replace(/[.*+?^${}()|[\]\\`]/g, "\\$&")}[ \\t]*$`, "m").exec(markdown);
  if (!start) throw new Error(`no heading "${heading}"`);
  const rest = markdown.slice(start.index + start[0].length);
  const end = new RegExp(`^#{1,${start[1]!.length}} `, "m").exec(rest.replace(FENCE, (block) => " ".repeat(block.length)));
  return end ? rest.slice(0, end.index) : rest;
}
