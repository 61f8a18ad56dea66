/**
 * What sending the Profile page costs the main thread, by the two ways FAMOS has sent it (issue 17,
 * the twenty-fourth round): as one string, which Fastify measures (`Buffer.byteLength`) and the socket
 * encodes behind the head of the answer (a two-byte string of ~42,000 characters, the time zones ~34,000
 * of them), against the page with its zones as a kept part (platform/html.ts `keptPart`, `pageBytes`):
 * ~8,000 characters encoded and the zones' bytes copied in. The page is this checkout's own German
 * Profile; the two alternate in batches of 500 in one process, and each figure is the median batch of
 * the main thread's CPU time (Linux schedstat), so the machine's load falls on both alike.
 *
 *   node --import tsx bench/page-send.ts
 */
import { readFileSync } from "node:fs";
import { html, keptPart, pageBytes, unsafeRaw } from "../src/platform/html.ts";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient, signIn } from "../test/support/client.ts";
const t = await createTestApp({});
const user = await addUser(t.deps, { loginId: "r1", email: "r1@bench.test" });
const { client } = await signIn(t, { user, client: new FormClient(t.app, "10.1.0.1") });
const body = (await t.app.inject({ method: "GET", url: "/profile", headers: { cookie: client.cookieHeader(), "accept-language": "de" }, remoteAddress: "10.1.0.1" })).body;
await t.close();
const start = body.indexOf("<optgroup"), end = body.lastIndexOf("</optgroup>") + "</optgroup>".length;
const before = body.slice(0, start), zones = body.slice(start, end), after = body.slice(end);
const header = "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: 41684\r\n\r\n";
const run = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
let sink = 0;
// Each page is built as the app builds it: a template whose pieces are concatenated (a rope), the zones a cached SafeHtml or a marker.
const cachedZones = unsafeRaw(zones);
const A = () => { const page = html`${unsafeRaw(before)}${cachedZones}${unsafeRaw(after)}`.value; sink += Buffer.byteLength(page); sink += Buffer.from(header + page, "utf8").length; };
const B = () => { const page = html`${unsafeRaw(before)}${keptPart("z", () => unsafeRaw(zones))}${unsafeRaw(after)}`.value; const bytes = pageBytes(page) as Buffer; sink += bytes.length; sink += Buffer.from(header, "latin1").length; };
const results: Record<string, number[]> = { A: [], B: [] };
for (let batch = 0; batch < 30; batch += 1) for (const [name, f] of [["A", A], ["B", B]] as const) { const r0 = run(); for (let i = 0; i < 500; i += 1) f(); results[name]!.push((run() - r0) / 500 / 1e3); }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`page ${body.length} chars (zones ${zones.length}); µs per page, median of 30 batches of 500: string ${median(results.A!).toFixed(1)}, kept part ${median(results.B!).toFixed(1)} (${sink > 0})`);
