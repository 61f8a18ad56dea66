/**
 * The mail sender's poll (issue 17, the twenty-eighth round): the CPU of one outbox claim (the dead code
 * mail's withdrawal, then the claim of what is due) as every sender runs it every 2 s, mail due or not.
 * After `--flows` sign-ins over inject (their code mail in the outbox, sent), `--claims` claims
 * `--gap` ms apart, as the poll spaces them (code run that rarely is not optimised by V8); process CPU
 * per claim, each and the median. Nothing else runs: the thread pool is idle between sign-ins.
 *
 *   node --import tsx bench/claim-cpu.ts [--flows 200] [--claims 30] [--gap 100]
 */
import { parseArgs } from "node:util";
import { claimDueMail } from "../src/mail/outbox.ts";
import { addUser, createTestApp } from "../test/support/app.ts";
import { FormClient, signIn } from "../test/support/client.ts";

const { values: argv } = parseArgs({ options: { flows: { type: "string", default: "200" }, claims: { type: "string", default: "30" }, gap: { type: "string", default: "100" } } });
const t = await createTestApp({ env: { FAMOS_OTP_PER_HOUR: "0", FAMOS_OTP_RESEND_WAIT: "0s", FAMOS_LOCK_AFTER: "1000000" } });
const users: Awaited<ReturnType<typeof addUser>>[] = [];
for (let i = 0; i < 20; i += 1) users.push(await addUser(t.deps, { loginId: `bench${i}`, email: `bench${i}@bench.test` }));
for (let i = 0; i < Number(argv.flows); i += 1) await signIn(t, { user: users[i % users.length]!, client: new FormClient(t.app, "10.1.0.1") });

const cpuNs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) * 1000;
};
const each: number[] = [];
for (let i = 0; i < Number(argv.claims); i += 1) {
  const before = cpuNs();
  await claimDueMail(t.deps.db, t.deps.dialect, t.deps.clock.now(), 60_000, 8, { scrub: true });
  each.push((cpuNs() - before) / 1000);
  await new Promise((resolve) => setTimeout(resolve, Number(argv.gap)));
}
const sorted = [...each].sort((a, b) => a - b);
console.log(`µs per claim, in order: ${each.map((us) => us.toFixed(0)).join(" ")}`);
console.log(`median ${sorted[sorted.length >> 1]!.toFixed(0)} µs per claim (${each.length} claims ${argv.gap} ms apart after ${argv.flows} sign-ins)`);
process.exit(0);
