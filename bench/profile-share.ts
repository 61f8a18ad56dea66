/**
 * Where a `--cpu-prof` profile's samples went, by package (self time): each node_modules package, the
 * product's src/ files, node's internals, the GC; shares of all samples but idle. Then the inclusive
 * share of named functions (a function's samples and its callees', recursion counted once) and of
 * packages (`--pkg nodemailer`: samples with a frame of that package or src/ file anywhere on the stack).
 *
 *   node --import tsx bench/profile-share.ts <file.cpuprofile> [--top 25] [--fn composeMessage] [--pkg nodemailer]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: argv, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" }, fn: { type: "string", multiple: true, default: [] }, pkg: { type: "string", multiple: true, default: [] } } });
interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));

function bucket(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : `(native) ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/((?:src|test|bench)\/.*)$/.exec(url);
  if (src) return src[1]!;
  return url.startsWith("node:") ? "node:*" : url;
}

let total = 0;
const buckets = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  if (n.callFrame.functionName === "(idle)") continue;
  total += us;
  const b = bucket(n);
  buckets.set(b, (buckets.get(b) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(2)} %`;
console.log(`${positionals[0]}: ${(total / 1000).toFixed(0)} ms sampled, idle excluded`);
for (const [b, us] of [...buckets].sort((x, y) => y[1] - x[1]).slice(0, Number(argv.top))) console.log(`  ${pct(us).padStart(8)}  ${b}`);

const named = [...argv.fn.map((fn) => ({ what: fn, hit: (n: Node) => n.callFrame.functionName === fn })), ...argv.pkg.map((pkg) => ({ what: `${pkg} (anywhere on the stack)`, hit: (n: Node) => bucket(n) === pkg }))];
for (const { what, hit } of named) {
  let inclusive = 0;
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName === "(idle)") continue;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (hit(byId.get(at)!)) {
        inclusive += us;
        break;
      }
    }
  }
  console.log(`  inclusive ${what}: ${pct(inclusive)}`);
}
