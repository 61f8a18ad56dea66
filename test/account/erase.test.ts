import { loginCounterKey } from "../support/login-counter.ts";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseUser } from "../../src/account/erase.ts";
import { recordAudit } from "../../src/audit/audit.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { createUser, findUserByLogin } from "../../src/users/users.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

const operator = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } };

/** Issue 11: `famos user delete --erase` — the one sanctioned change to the append-only trail. */
describe.each(DIALECTS)("erasing a user on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>>;
  beforeAll(async () => {
    t = await openInstances(dialect, 1, `erase_${dialect}`);
  });
  afterAll(async () => t?.close());

  it("deletes the account and keeps its events, with kind and time, under a pseudonym", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, {
      loginId: "Erin.Leaver", fullName: "Erin Leaver", partnerNumber: "0042", role: "support", passwordHash: "x", otpEmail: "erin@dealer.example",
    }))!;
    const other = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, { loginId: "stays", fullName: "Stay", partnerNumber: "0042", role: "user", passwordHash: "x", otpEmail: null }))!;
    const who = { ip: "203.0.113.9", userAgent: "Mozilla/5.0 Erin" };
    await recordAudit(deps.db, now, { ...who, event: "password.ok", actor: "Erin.Leaver", subject: "Erin.Leaver" });
    await recordAudit(deps.db, now + 1, { ...who, event: "password.failed", actor: "erin.leaver ", subject: "erin.leaver ", detail: { reason: "wrong-password" } });
    await recordAudit(deps.db, now + 2, { ...who, event: "email.reset", actor: "Erin.Leaver", subject: "stays", detail: { previousEmail: "x@y" } });
    await recordAudit(deps.db, now + 3, { ...who, event: "email.changed", actor: "Erin.Leaver", subject: "Erin.Leaver", detail: { to: "erin@dealer.example" } });
    await recordAudit(deps.db, now + 4, { ip: "198.51.100.1", userAgent: "other", event: "password.ok", actor: "stays", subject: "stays" });
    await deps.db.insertInto("throttles").values({ key: loginCounterKey("password", "erin.leaver"), failures: 2, locked_until: 0, hard_locked: 0, updated_at: now }).execute();
    // Issue 13: her second factors go too.
    await deps.db.insertInto("authenticator_apps").values({ user_id: user.id, secret: "v1:x", created_at: now, confirmed_at: now, last_step: null, last_used_at: null }).execute();
    await deps.db.insertInto("recovery_codes").values({ id: "rc-erin", user_id: user.id, code_hash: "h", created_at: now, used_at: null }).execute();
    await deps.db.insertInto("passkeys").values({ id: "pk-erin", user_id: user.id, credential_id: "cred-erin", public_key: "k", sign_count: 0, transports: null, device_type: "multiDevice", backed_up: 1, name: "Phone", created_at: now, last_used_at: null }).execute();

    const outcome = await eraseUser(deps, operator, user.id);
    expect(outcome.kind).toBe("erased");
    if (outcome.kind !== "erased") return;
    expect(outcome.events).toBe(4);
    expect(await findUserByLogin(deps.db, "erin.leaver")).toBeUndefined();
    expect(await deps.db.selectFrom("throttles").selectAll().where("key", "=", loginCounterKey("password", "erin.leaver")).execute()).toEqual([]);
    for (const table of ["authenticator_apps", "recovery_codes", "passkeys"] as const) {
      expect(await deps.db.selectFrom(table).select("user_id").where("user_id", "=", user.id).execute(), table).toEqual([]);
    }

    const rows = await deps.db.selectFrom("audit").selectAll().orderBy("id").execute();
    const text = JSON.stringify(rows);
    expect(text).not.toMatch(/erin/i);
    expect(text).not.toContain("203.0.113.9");
    expect(rows.slice(0, 4).map((r) => [r.event, Number(r.time)])).toEqual([
      ["password.ok", now], ["password.failed", now + 1], ["email.reset", now + 2], ["email.changed", now + 3],
    ]);
    expect(rows[0]!.subject).toBe(outcome.pseudonym);
    expect(rows[2]!.actor).toBe(outcome.pseudonym);
    expect(rows[2]!.subject).toBe("stays");
    expect(rows[3]!.detail).toBe(JSON.stringify({ to: outcome.pseudonym }));
    // The other user's own event is untouched.
    expect(rows[4]).toMatchObject({ actor: "stays", ip: "198.51.100.1", user_agent: "other" });
    expect(rows.at(-1)).toMatchObject({ event: "user.erased", subject: outcome.pseudonym, actor: "operator:test" });
    expect(other.id).toBeTruthy();
  });

  it("erases an account that never had an address: no address list to delete by (an empty IN list is an error on PostgreSQL)", async () => {
    const deps = t.deps[0]!;
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, t.clock.now(), { loginId: "no.address", fullName: "No Address", partnerNumber: "0042", role: "user", passwordHash: "x", otpEmail: null }))!;
    expect(await eraseUser(deps, operator, user.id)).toMatchObject({ kind: "erased", events: 0 });
    expect(await findUserByLogin(deps.db, "no.address")).toBeUndefined();
  });

  it("still refuses any other change or removal of audit rows", async () => {
    const deps = t.deps[0]!;
    await recordAudit(deps.db, t.clock.now(), { event: "signout", actor: "a", subject: "a", ip: null, userAgent: null });
    await expect(deps.db.updateTable("audit").set({ actor: "b" }).execute()).rejects.toThrow(/append-only/);
    await expect(deps.db.deleteFrom("audit").execute()).rejects.toThrow(/append-only/);
    // Not even an update that keeps the event's name and time, outside the migration's functions.
    await expect(sql`update audit set ip = null`.execute(deps.db)).rejects.toThrow(/append-only/);
  });

  /**
   * A leaver's life before erasure: enrolled one address, changed it, had it reset by support, bounced
   * mail to an old one, was given a contact address for the rollout, posted a notice as support. Erasure
   * must take every one of her addresses out of the trail and the bounce records, not only the address she
   * had on the day, and her login ID off her notices, so a new colleague given the same login ID later
   * inherits none of it. An address a colleague still uses keeps its bounce record.
   */
  it("takes every address she had out of her events and the bounce records, and her login ID off her notices", async () => {
    const deps = t.deps[0]!;
    const now = t.clock.now();
    const user = (await createUser(deps.db, TEST_KEYS, cryptoRandom, now, {
      loginId: "Lea.Ver", fullName: "Lea Ver", partnerNumber: "0077", role: "support", passwordHash: "x", otpEmail: null,
    }))!;
    await createUser(deps.db, TEST_KEYS, cryptoRandom, now, { loginId: "colleague77", fullName: "Col League", partnerNumber: "0077", role: "user", passwordHash: "x", otpEmail: "Sales@Dealer77.example" });
    await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: "lea.contact@dealer77.example", grace_used: 0, announced_at: now }).execute();
    const who = { ip: "203.0.113.77", userAgent: "Mozilla/5.0 Lea" };
    const her = { ...who, actor: "Lea.Ver", subject: "Lea.Ver" };
    await recordAudit(deps.db, now, { ...her, event: "email.changed", detail: { from: "Lea.Old@dealer77.example", to: "sales@dealer77.example", sessionsEnded: 0 } });
    await recordAudit(deps.db, now + 1, { ...her, event: "email.change-started", detail: { to: "lea.typo@dealr77.example", sharedMailbox: false } });
    await recordAudit(deps.db, now + 2, { ...who, actor: "colleague77", subject: "Lea.Ver", event: "email.reset", detail: { ticket: "INC-1", previousEmail: "sales@dealer77.example", pendingEmail: "lea.typo@dealr77.example", sessionsEnded: 1 } });
    await recordAudit(deps.db, now + 3, { actor: "bounce:smtp", subject: "Lea.Ver", ip: null, userAgent: null, event: "mail.bounced", detail: { bounce: "hard", status: "5.1.1", reason: "no such user", to: "Lea.Old@dealer77.example", mail: "otp" } });
    await recordAudit(deps.db, now + 4, { ...her, event: "role.changed", detail: { from: "user", to: "support" } });
    await recordAudit(deps.db, now + 5, { ...who, actor: "lea.ver", subject: "lea.ver", event: "password.failed", detail: { reason: "wrong-password", typed: " LEA.VER" } });
    for (const key of ["lea.old@dealer77.example", "lea.contact@dealer77.example", "sales@dealer77.example"]) {
      await deps.db.insertInto("mail_addresses").values({ address_key: key, undeliverable_at: now, undeliverable_reason: "5.1.1", soft_bounces: 0, last_soft_bounce_at: null, last_soft_reason: null, confirmed_at: null, updated_at: now }).execute();
    }
    await deps.db.insertInto("notices").values({ id: "notice-lea", title: "Portal down", body: "Back soon", created_at: now, updated_at: null, ended_at: null, created_by: "Lea.Ver" }).execute();

    const outcome = await eraseUser(deps, operator, user.id);
    expect(outcome.kind).toBe("erased");
    if (outcome.kind !== "erased") return;

    const rows = await deps.db.selectFrom("audit").selectAll().where("subject", "=", outcome.pseudonym).orderBy("id").execute();
    expect(JSON.stringify(rows)).not.toMatch(/lea\.old|lea\.typo|lea\.ver|203\.0\.113\.77/i);
    // The shared address is hers in her events too; a role's name is no address and stays.
    expect(rows.find((r) => r.event === "email.reset")!.detail).not.toMatch(/sales@/i);
    expect(JSON.parse(rows.find((r) => r.event === "role.changed")!.detail!)).toEqual({ from: "user", to: "support" });
    const kept = (await deps.db.selectFrom("mail_addresses").select("address_key").execute()).map((r) => r.address_key);
    expect(kept).not.toContain("lea.old@dealer77.example");
    expect(kept).not.toContain("lea.contact@dealer77.example");
    expect(kept).toContain("sales@dealer77.example");
    const notice = await deps.db.selectFrom("notices").select("created_by").where("id", "=", "notice-lea").executeTakeFirstOrThrow();
    expect(notice.created_by).toBe(outcome.pseudonym);
  });
});
