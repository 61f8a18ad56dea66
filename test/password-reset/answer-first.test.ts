import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { openStore } from "../../src/store/database.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { failingStatements, type FailingStatements } from "../store/fail-after-commit.ts";
import { within } from "../support/until.ts";

const NEW = "reset by myself ok";
/** How long the answer may take while the account's row is held: a bound for a clear failure, not a measure. */
const ANSWER_BOUND_MS = 2_000;

/** The cookie's shape: the set-cookie header with its signed value blanked. */
const cookieShape = (setCookie: unknown) => String(setCookie).replace(/^famos_reset=[^;]+/, "famos_reset=VALUE");

/**
 * SPEC item 1, "no refusal may tell whether an account exists", for "Forgot password?" step 1 with
 * FAMOS_PASSWORD_RESET=self: the answer goes before anything about the login ID is read or written.
 * For a real account the work (its row taken, a flow, a code, an audit line, the mail) follows the
 * answer (web/after-reply.ts), so the answer's time is that of an unknown login ID. Before, the work
 * came first, and an account's answer was measurably slower (SECURITY.md, Known limits 15).
 */
describe("forgot password: the answer does not wait for the account's work (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: "postgres", env: { FAMOS_PASSWORD_RESET: "self" } });
  });
  afterAll(async () => t?.close());

  /** Another connection's transaction holding the user's row (as support's change would) until `release`. */
  async function holdRow(userId: string) {
    const store = openStore(t.config.databaseUrl);
    const trx = await store.db.startTransaction().execute();
    await sql`select id from users where id = ${userId} for update`.execute(trx);
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        await trx.commit().execute();
        await store.close();
      },
    };
  }

  it("answers 303 while the account's row is held, then mails the code once it is free, and the code resets the password", async () => {
    const user = await addUser(t.deps, { loginId: "answer.first", email: "first@dealer.example" });
    const client = new FormClient(t.app);
    await client.get("/forgot-password");
    const mark = await t.mailbox.mark();
    const hold = await holdRow(user.id);
    try {
      const answer = await within(client.post("/forgot-password", { loginId: "answer.first" }), "POST /forgot-password waited for the account's work: it did not answer while the user's row was held", ANSWER_BOUND_MS);
      expect(answer.statusCode).toBe(303);
      expect(answer.headers.location).toBe("/forgot-password/code");
      // The work is waiting for the row: nothing of it is there yet.
      expect(await t.deps.db.selectFrom("codes").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
    } finally {
      await hold.release();
    }
    const code = await t.mailbox.code("first@dealer.example", mark);
    await client.get("/forgot-password/code");
    const done = await client.post("/forgot-password/code", { code, newPassword: NEW, confirmNewPassword: NEW });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/login?reset=1");
  });

  it("answers an unknown login ID with the same status, headers and cookie shape, and does no work", async () => {
    await addUser(t.deps, { loginId: "answer.known", email: "known@dealer.example" });
    const known = new FormClient(t.app);
    const unknown = new FormClient(t.app);
    await known.get("/forgot-password");
    await unknown.get("/forgot-password");
    const a = await known.post("/forgot-password", { loginId: "answer.known" });
    const b = await unknown.post("/forgot-password", { loginId: "answer.nobody" });
    await t.app.afterReply.settled();
    expect([a.statusCode, a.headers.location]).toEqual([b.statusCode, b.headers.location]);
    expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());
    expect(cookieShape(a.headers["set-cookie"])).toBe(cookieShape(b.headers["set-cookie"]));
    expect(await queryAudit(t.deps.db, { subject: "answer.known", event: "password.reset-requested" })).toHaveLength(1);
    expect(await queryAudit(t.deps.db, { subject: "answer.nobody", event: "password.reset-requested" })).toEqual([]);
  });
});

/**
 * The account's work after the answer is one transaction: a database failing in it keeps nothing of
 * it (no flow, code, audit line or mail), and the answer, gone already, was the same 303. The failure
 * is logged (web/after-reply.ts) and a later request works.
 */
describe.each(DIALECTS)("forgot password: the database failing in the work after the answer (%s)", (dialect) => {
  let t: TestApp;
  let failing: FailingStatements;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_PASSWORD_RESET: "self" } });
    failing = failingStatements();
  });
  afterEach(() => failing.disarm());
  afterAll(async () => {
    failing?.restore();
    await t?.close();
  });

  const kept = async (userId: string, loginId: string) => ({
    flows: (await t.deps.db.selectFrom("flows").select("id").where("user_id", "=", userId).execute()).length,
    codes: (await t.deps.db.selectFrom("codes").select("id").where("user_id", "=", userId).execute()).length,
    mails: (await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", userId).execute()).length,
    audited: (await queryAudit(t.deps.db, { subject: loginId, event: "password.reset-requested" })).length,
  });

  it.each(["before-commit", /^\s*insert into "outbox"/i] as const)("at %s: nothing is kept, the answer was the 303, and the next try mails a code", async (moment) => {
    const user = await addUser(t.deps, { email: `fails${String(moment).length}@dealer.example` });
    const client = new FormClient(t.app);
    await client.get("/forgot-password");
    const failures = async () => (await t.deps.metrics.afterReplyFailed.get()).values.find((v) => v.labels.work === "the password reset's code")?.value ?? 0;
    const before = await failures();
    failing.arm(moment);
    const answer = await client.post("/forgot-password", { loginId: user.login_id });
    await t.app.afterReply.settled();
    expect(failing.failed()).not.toBeNull();
    // For the operator: counted (famos_after_reply_failures_total), as nobody saw an error.
    expect(await failures()).toBe(before + 1);
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/forgot-password/code");
    expect(await kept(user.id, user.login_id)).toEqual({ flows: 0, codes: 0, mails: 0, audited: 0 });

    const mark = await t.mailbox.mark();
    await client.post("/forgot-password", { loginId: user.login_id });
    await t.mailbox.code(user.otp_email!, mark);
    expect(await kept(user.id, user.login_id)).toEqual({ flows: 1, codes: 1, mails: 1, audited: 1 });
  });
});
