import { describe, expect, it } from "vitest";
import { claimDueMail, enqueueMail, WITHDRAWN, type OutgoingMail } from "../../src/mail/outbox.ts";
import { issueCode, voidFlowCodes } from "../../src/otp/codes.ts";
import { createFlow } from "../../src/otp/flows.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { addUser } from "../support/app.ts";
import { compiledDuring } from "../support/compiled.ts";
import { createUnitDeps } from "../support/unit-app.ts";
import { useStorePerTest } from "../support/unit-store.ts";

/**
 * Issue 17: the sender's claim (the dead code mail's and the leaver's withdrawals, then the claim of what is due) runs
 * at every poll, every 2 s, found mail or not, and was the one statement pair of a running server
 * that Kysely still built and compiled at each run: ~1 ms of the main thread per poll, its code
 * too rarely run to be optimised. All three are now compiled once (preparedQueryFor); the rules are
 * test/mail/outbox.unit.test.ts's and relay-trouble's.
 */

const LEASE = 60_000;
const mail = (n: number): OutgoingMail => ({ userId: null, kind: "notice", recipient: `r${n}@dealer.example`, subject: "s", text: "t", html: "<p>t</p>" });

const fresh = useStorePerTest("claim-compiled");

describe("the sender's claim, compiled once", () => {
  it("a claim after the first builds and compiles no query, with mail due and with none, for any limit and scrubbing", async () => {
    await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 8, { scrub: true });
    await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 2, { scrub: true });
    await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", mail(1));
    await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", mail(2));
    await enqueueMail(fresh.db, fresh.clock.now(), cryptoRandom, "famos.test", mail(3));
    const claimed: string[][] = [];
    const compiled = await compiledDuring(async () => {
      claimed.push((await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 2, { scrub: true })).map((m) => m.recipient).sort());
      claimed.push((await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 8, { scrub: true })).map((m) => m.recipient));
      claimed.push((await claimDueMail(fresh.db, "sqlite", fresh.clock.now(), LEASE, 8, { scrub: true })).map((m) => m.recipient));
    });
    expect(compiled, compiled.join("\n")).toEqual([]);
    expect(claimed).toEqual([["r1@dealer.example", "r2@dealer.example"], ["r3@dealer.example"], []]);
  });

  it("compiled once, the withdrawal still fails a due code mail whose code no longer works, its bodies emptied", async () => {
    const own = await createUnitDeps();
    try {
      await claimDueMail(own.deps.db, "sqlite", own.clock.now(), LEASE, 8, { scrub: true });
      const user = await addUser(own.deps);
      const flow = await createFlow(own.deps.db, own.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: own.clock.now() });
      expect(await own.deps.db.transaction().execute((tx) => issueCode(own.deps, tx, flow, "someone", own.clock.now()))).toMatchObject({ kind: "sent" });
      await voidFlowCodes(own.deps.db, flow.id, "cancelled", own.clock.now());
      const compiled = await compiledDuring(async () => {
        expect(await claimDueMail(own.deps.db, "sqlite", own.clock.now() + 1, LEASE, 8, { scrub: true })).toEqual([]);
      });
      expect(compiled, compiled.join("\n")).toEqual([]);
      const rows = await own.deps.db.selectFrom("outbox").selectAll().where("user_id", "=", user.id).execute();
      expect(rows.map(({ state, last_error, text_body, html_body }) => ({ state, last_error, text_body, html_body }))).toEqual([{ state: "failed", last_error: WITHDRAWN, text_body: "", html_body: "" }]);
    } finally {
      await own.close();
    }
  });
});
