import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { WITHDRAWN_LEAVER } from "../../src/mail/leaver-mail.ts";
import { claimDueMail } from "../../src/mail/outbox.ts";
import type { Store } from "../../src/store/database.ts";
import { createUser } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { captureStatements, fullReads } from "../support/statement-plans.ts";

const MAILS = 1_200;
const USERS = 600;

/**
 * Every sender claims its due mail every 2 s poll (FAMOS_MAIL_POLL), and each claim first withdraws
 * due mail that must not go: a dead code's, and a leaver's (7567c12). The outbox keeps every mail sent
 * (a code mail per sign-in, FAMOS_MAIL_KEEP): none of a claim's statements may read it whole; they reach
 * the due mail through outbox_due (state, next_attempt_at), and its user by its key. (A dead code's
 * withdrawal on PostgreSQL reads an empty codes table whole with sequential scans priced out: codes is
 * left out here, as before the leaver's withdrawal.)
 */
describe.each(DIALECTS)("a claim's statements, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  let deps: Deps;
  let store: Store;
  const at = 5_000_000;

  beforeAll(async () => {
    t = await openInstances(dialect, 1, `claim_plans_${dialect}`);
    deps = t.deps[0]!;
    store = t.stores[0]!;
    const user = (await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: "sender", fullName: "S", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null }))!;
    for (let i = 0; i < USERS; i += 1) {
      await createUser(deps.db, deps.keys, deps.random, 1_000, { loginId: `other-${i}`, fullName: "O", partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });
    }
    await deps.db.updateTable("users").set({ disabled_at: 2_000 }).where("id", "=", user.id).execute();
    const mail = (i: number, state: "sent" | "queued") => ({
      id: `m-${i}`, user_id: user.id, kind: "notice", recipient: `m${i}@dealer.example`, subject: "s", text_body: "t", html_body: "h", message_id: `<m${i}@x>`,
      state, attempts: 1, next_attempt_at: at - i, created_at: at - i, sent_at: state === "sent" ? at - i : null,
    });
    const rows = Array.from({ length: MAILS }, (_, i) => mail(i, i < 3 ? "queued" : "sent"));
    for (let i = 0; i < rows.length; i += 300) await deps.db.insertInto("outbox").values(rows.slice(i, i + 300)).execute();
    await sql`analyze`.execute(deps.db);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("reads no whole outbox, and withdraws the leaver's due mail", async () => {
    const { plugin, nodes } = captureStatements();
    const claimed = await claimDueMail(deps.db.withPlugin(plugin), dialect, at, 60_000, 10);
    expect(claimed).toEqual([]);
    expect(await deps.db.selectFrom("outbox").select("id").where("last_error", "=", WITHDRAWN_LEAVER).execute()).toHaveLength(3);
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    // The claim's statements are compiled once (prepared): captured at that first build, with stand-ins for now and the lease's end.
    const reads = await Promise.all(nodes.map((node) => fullReads(store, node, ["outbox", "users"], [at, at + 60_000])));
    expect(reads.flat()).toEqual([]);
  });
});
