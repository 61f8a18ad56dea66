import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { issueCode, voidFlowCodes } from "../../src/otp/codes.ts";
import { createFlow, finishFlow } from "../../src/otp/flows.ts";
import { WITHDRAWN } from "../../src/mail/outbox.ts";
import { addUser } from "../support/app.ts";
import { createUnitDeps } from "../support/unit-app.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * SPEC "Regenerate": at most FAMOS_OTP_PER_HOUR (10) codes per account an hour, "counting every code
 * sent". A code whose mail never left FAMOS (the relay was down, and Regenerate OTP or Cancel voided
 * it before the mail went: the sender withdraws such mail, mail/outbox.ts) was never sent: it filled
 * no mailbox and gave nobody anything to type. Counted, a staff member who pressed Regenerate through
 * an outage found herself capped for an hour once the relay was back, with no code ever received.
 * The other side holds: a code whose mail the relay took counts, dead or alive, and so does a live
 * code still waiting in the queue (it will go when the relay is back), so nobody can pile up codes
 * during an outage to flood the mailbox after it.
 */
describe("the hourly code cap counts the codes whose mail went or will go, not those withdrawn unsent", () => {
  let own: Awaited<ReturnType<typeof createUnitDeps>>;
  beforeEach(async () => {
    own = await createUnitDeps();
  });
  afterEach(async () => own.close());
  const at = () => own.clock.now();

  /** A sign-in with FAMOS_OTP_PER_ATTEMPT (5) codes, Regenerate OTP 30 s apart; each regenerate voids the code before. */
  async function signInRegenerating(user: { id: string; otp_email: string | null }, codes = 5) {
    const flow = await createFlow(own.deps.db, own.deps.random, { userId: user.id, kind: "signin", email: user.otp_email!, now: at() });
    const outcomes = [];
    for (let i = 0; i < codes; i += 1) {
      outcomes.push(await own.deps.db.transaction().execute((tx) => issueCode(own.deps, tx, flow, "someone", at())));
      own.clock.advance(30 * SECOND);
    }
    return { flow, outcomes };
  }
  const cancel = async (flowId: string) => {
    await voidFlowCodes(own.deps.db, flowId, "cancelled", at());
    await finishFlow(own.deps.db, flowId, at());
  };
  const issueNew = async (user: { id: string; otp_email: string | null }) => (await signInRegenerating(user, 1)).outcomes[0];

  it("two sign-ins through an outage, each regenerated to its cap and cancelled, mail never sent: the next sign-in after the outage gets its code", async () => {
    const user = await addUser(own.deps);
    for (let i = 0; i < 2; i += 1) {
      const { flow, outcomes } = await signInRegenerating(user);
      expect(outcomes.every((o) => o.kind === "sent")).toBe(true);
      await cancel(flow.id);
    }
    // The dead codes' mail still queued for a retry: the sender withdraws it at its next pass.
    expect(await issueNew(user)).toMatchObject({ kind: "sent" });
  });

  it("the same once the sender has withdrawn the dead codes' mail (failed, never sent)", async () => {
    const user = await addUser(own.deps);
    for (let i = 0; i < 2; i += 1) await cancel((await signInRegenerating(user)).flow.id);
    await own.deps.db.updateTable("outbox").set({ state: "failed", last_error: WITHDRAWN }).where("user_id", "=", user.id).execute();
    // As the sender's pass leaves it: withdrawn; the relay back, the code of the sign-in after it goes.
    own.clock.advance(MINUTE);
    expect(await issueNew(user)).toMatchObject({ kind: "sent" });
  });

  it("still counts codes whose mail the relay took, used or not", async () => {
    const user = await addUser(own.deps);
    for (let i = 0; i < 2; i += 1) {
      const { flow } = await signInRegenerating(user);
      await cancel(flow.id);
    }
    await own.deps.db.updateTable("outbox").set({ state: "sent", sent_at: at() }).where("user_id", "=", user.id).execute();
    expect(await issueNew(user)).toMatchObject({ kind: "hour-cap" });
  });

  it("still counts live codes waiting in the queue: ten sign-ins during an outage cannot flood the mailbox when it ends", async () => {
    const user = await addUser(own.deps);
    for (let i = 0; i < 10; i += 1) expect(await issueNew(user)).toMatchObject({ kind: "sent" });
    expect(await issueNew(user)).toMatchObject({ kind: "hour-cap" });
  });

  it("still counts a code whose mail the relay refused for good (the relay saw it; a stranger's resets must not drive it without end)", async () => {
    const user = await addUser(own.deps);
    for (let i = 0; i < 10; i += 1) expect(await issueNew(user)).toMatchObject({ kind: "sent" });
    await own.deps.db.updateTable("outbox").set({ state: "failed", last_error: "550 5.1.1 User unknown" }).where("user_id", "=", user.id).execute();
    expect(await issueNew(user)).toMatchObject({ kind: "hour-cap" });
  });
});
