/**
 * Where a sampling heap profile (bench/lib/heap-sample.mjs) says a process allocated, in KB per flow:
 * by the allocating frame's package or file (node_modules package, src/ or test/ file, node's module,
 * "(native/vm)" for V8's own), by the innermost src/ frame on the stack (the product's code that caused
 * it, whatever library did the allocating), and by leaf function. `--under REGEX`: for samples whose
 * leaf frame ("function url") matches, the nearest src/ frame above them outside that file (who asked).
 * The profile covers the whole run (start, warm-up and flows): give `--flows` the flows run in all.
 *
 *   node --import tsx bench/heap-share.ts <heap.json> --flows 800 [--top 25] [--under prepared.ts]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: argv, positionals } = parseArgs({ allowPositionals: true, options: { flows: { type: "string", default: "1" }, top: { type: "string", default: "25" }, under: { type: "string" } } });
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: HeapNode[];
}
const { head } = JSON.parse(readFileSync(positionals[0]!, "utf8")) as { head: HeapNode };
const flows = Number(argv.flows);
const top = Number(argv.top);

const place = (url: string) => (!url ? "(native/vm)" : (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? /((?:src|test|bench)\/.*)$/.exec(url)?.[1] ?? url));
const isSrc = (url: string) => /\/src\//.test(url) && !url.includes("node_modules");
const name = (n: HeapNode) => `${n.callFrame.functionName || "(anonymous)"} ${place(n.callFrame.url)}:${n.callFrame.columnNumber + 1}`;

const byPlace = new Map<string, number>();
const bySrc = new Map<string, number>();
const byLeaf = new Map<string, number>();
const byAsker = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
/** The innermost frame of `stack` (last first) that `test` accepts. */
function innermost(stack: HeapNode[], test: (f: HeapNode) => boolean): HeapNode | undefined {
  for (let i = stack.length - 1; i >= 0; i--) if (test(stack[i]!)) return stack[i];
  return undefined;
}
const under = argv.under === undefined ? null : new RegExp(argv.under);

function walk(n: HeapNode, stack: HeapNode[]): void {
  stack.push(n);
  if (n.selfSize > 0) {
    total += n.selfSize;
    add(byPlace, place(n.callFrame.url), n.selfSize);
    add(byLeaf, name(n), n.selfSize);
    const src = innermost(stack, (f) => isSrc(f.callFrame.url));
    if (src) add(bySrc, name(src), n.selfSize);
    if (under?.test(`${n.callFrame.functionName} ${n.callFrame.url}`)) {
      const asker = innermost(stack, (f) => f !== n && isSrc(f.callFrame.url) && f.callFrame.url !== n.callFrame.url);
      add(byAsker, asker ? name(asker) : "(none)", n.selfSize);
    }
  }
  for (const c of n.children) walk(c, stack);
  stack.pop();
}
walk(head, []);

const kb = (bytes: number) => `${(bytes / flows / 1024).toFixed(1).padStart(7)} KB`;
const list = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${kb(v)}  ${k}`);
};
console.log(`${kb(total)} sampled per flow (${flows} flows)`);
list("by the allocating frame's package or file", byPlace);
list("by the innermost src/ frame on the stack", bySrc);
list("by leaf function", byLeaf);
if (under) list(`samples in ${argv.under}, by the src/ frame that called into it`, byAsker);
