import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { smtpTransport } from "../../src/mail/transport.ts";
import { FixedClock } from "../../src/platform/clock.ts";
import { announceRollout } from "../../src/rollout/announce.ts";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { storeImportedUsers } from "../../src/support/import-users.ts";
import { changeWave } from "../../src/rollout/plan-change.ts";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { createUser } from "../../src/users/users.ts";
import { createTestApp, TEST_SECRET, type TestApp } from "../support/app.ts";
import { startSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { DIALECTS, openInstances, migratedTestDatabase } from "../store/dialects.ts";

const ACTOR = { actor: "operator:test", ip: "cli", userAgent: "test" };
/** The address staff use, which the announcement tells them to sign in at. */
const PORTAL = "https://famos.dealer.example";
const HASH = "$2b$10$abcdefghijklmnopqrstuuC9o7zZ9Qz1m9N0p0m0c3b8aQ8qUyy5y";

async function addPerson(deps: Deps, loginId: string, partner: string, address: { contact?: string; pending?: string; otp?: string } = {}) {
  const user = (await createUser(deps.db, deps.keys, deps.random, deps.clock.now(), { loginId, fullName: `Person ${loginId}`, partnerNumber: partner, role: "user", passwordHash: HASH, otpEmail: address.otp ?? null }))!;
  if (address.pending) await deps.db.updateTable("users").set({ pending_email: address.pending }).where("id", "=", user.id).execute();
  if (address.contact) await deps.db.insertInto("rollout_users").values({ user_id: user.id, contact_email: address.contact, grace_used: 0, announced_at: null }).execute();
  return user;
}

describe.each(DIALECTS)("famos rollout announce, in process (%s)", (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_SUPPORT_EMAIL: "retailit@famos.test", FAMOS_PUBLIC_URL: PORTAL } });
    await addPerson(t.deps, "anna", "2001", { contact: "anna@dealer.example" });
    await addPerson(t.deps, "ben", "2001", { contact: "ben@dealer.example" });
    await addPerson(t.deps, "cara", "2002", { contact: "cara@dealer.example" });
    await addPerson(t.deps, "dan", "2001", { pending: "dan@dealer.example" });
    await addPerson(t.deps, "eve", "2001", { otp: "eve@dealer.example" });
    await addPerson(t.deps, "fred", "2001");
    await addPerson(t.deps, "gina", "2002");
    await setWaveStart(t.deps.db, "2001", Date.UTC(2027, 0, 11, 7), t.clock.now(), "test");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("--dry-run counts and lists, and mails no one", async () => {
    const report = await announceRollout(t.deps, { partner: null, dryRun: true, actor: ACTOR });
    expect(report).toMatchObject({ mailed: 4, alreadyAnnounced: 0, enrolled: 1, left: 0, stopped: false });
    expect(report.withoutAddress.map((u) => u.loginId)).toEqual(["fred", "gina"]);
    expect(await t.deps.db.selectFrom("outbox").select("id").execute()).toEqual([]);
    expect(await t.deps.db.selectFrom("rollout_users").select("user_id").where("announced_at", "is not", null).execute()).toEqual([]);
  });

  it("mails each user with a known address once, with the start date and the guide's steps, and never again", async () => {
    const stopped = await announceRollout(t.deps, { partner: "2001", dryRun: false, actor: ACTOR, shouldStop: () => true });
    expect(stopped).toMatchObject({ mailed: 0, left: 3, stopped: true });

    const first = await announceRollout(t.deps, { partner: null, dryRun: false, actor: ACTOR });
    expect(first).toMatchObject({ mailed: 4, alreadyAnnounced: 0, enrolled: 1, left: 0 });
    await t.services.sender.drain();
    const mails = t.smtp.messages.filter((m) => /two-factor/.test(m.subject));
    expect(mails.map((m) => m.envelopeTo[0]).sort()).toEqual(["anna@dealer.example", "ben@dealer.example", "cara@dealer.example", "dan@dealer.example"]);
    const anna = mails.find((m) => m.envelopeTo.includes("anna@dealer.example"))!;
    expect(anna.subject).toBe("FAMOS two-factor sign-in starts for you on 11/01/2027");
    expect(anna.text).toContain("From 11/01/2027 07:00 (UK time), signing in to FAMOS takes two steps: your usual login ID (anna) and password");
    expect(anna.text).toContain('"User profile"');
    expect(anna.text).toContain(`sign in to FAMOS at ${PORTAL} as usual`);
    expect(anna.text).toContain('retailit@famos.test with the subject "OTP email reset"');
    expect(anna.html).toContain("individually assigned work email address");
    // Partner 2002 has no start of its own and there is no default: 2FA is on for them already.
    const cara = mails.find((m) => m.envelopeTo.includes("cara@dealer.example"))!;
    expect(cara.subject).toBe("FAMOS two-factor sign-in is on for you");

    const again = await announceRollout(t.deps, { partner: null, dryRun: false, actor: ACTOR });
    expect(again).toMatchObject({ mailed: 0, alreadyAnnounced: 4 });
    const audit = await t.deps.db.selectFrom("audit").select("subject").where("event", "=", "rollout.announced").execute();
    expect(audit.map((a) => a.subject).sort()).toEqual(["anna", "ben", "cara", "dan"]);
  });
});

// PostgreSQL only: two SQLite connections in one process cannot interleave transactions (a busy
// wait blocks the thread the other one needs); SQLite serialises writers across processes anyway.
describe("two announce runs at once (postgres)", () => {
  it("mail each user once between them: the mark is taken in the statement that checks it", async () => {
    const instances = await openInstances("postgres", 2, "announce_race", { FAMOS_PUBLIC_URL: PORTAL });
    try {
      const [a, b] = instances.deps as [Deps, Deps];
      for (let i = 0; i < 12; i += 1) await addPerson(a, `race${i}`, "4001", { contact: `race${i}@dealer.example` });
      const [one, two] = await Promise.all([
        announceRollout(a, { partner: null, dryRun: false, actor: ACTOR }),
        announceRollout(b, { partner: null, dryRun: false, actor: ACTOR }),
      ]);
      expect(one.mailed + two.mailed).toBe(12);
      expect(one.mailed + one.alreadyAnnounced).toBe(12);
      const outbox = await a.db.selectFrom("outbox").select("recipient").execute();
      expect(outbox).toHaveLength(12);
    } finally {
      await instances.close();
    }
  });
});

/**
 * Leavers are disabled, not deleted (README "Forgotten passwords and leavers"): the rollout's mail is
 * not for them, nor is retail IT to chase them for an address. One disabled in the middle of a long
 * run (`import --sync` while the announcement goes out at 5 a second) is not mailed either.
 */
describe.each(DIALECTS)("famos rollout announce and leavers (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect, env: { FAMOS_PUBLIC_URL: PORTAL } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("mails no disabled user and lists none among those without an address, even one disabled during the run", async () => {
    const now = t.clock.now();
    const leaver = await addPerson(t.deps, "leaver5", "5001", { contact: "leaver5@dealer.example" });
    const gone = await addPerson(t.deps, "gone5", "5001");
    await addPerson(t.deps, "abe5", "5001", { contact: "abe5@dealer.example" });
    const late = await addPerson(t.deps, "zoe5", "5001", { contact: "zoe5@dealer.example" });
    await t.deps.db.updateTable("users").set({ disabled_at: now }).where("id", "in", [leaver.id, gone.id]).execute();

    const dry = await announceRollout(t.deps, { partner: "5001", dryRun: true, actor: ACTOR });
    expect(dry).toMatchObject({ mailed: 2 });
    expect(dry.withoutAddress).toEqual([]);

    // zoe5 leaves while abe5's mail is being queued: the run reads its recipients once, at the start.
    const pace = async () => {
      await t.deps.db.updateTable("users").set({ disabled_at: now }).where("id", "=", late.id).execute();
    };
    const report = await announceRollout(t.deps, { partner: "5001", dryRun: false, actor: ACTOR, pace });
    expect(report).toMatchObject({ mailed: 1, alreadyAnnounced: 0 });
    const outbox = await t.deps.db.selectFrom("outbox").select("recipient").where("recipient", "like", "%5@dealer.example").execute();
    expect(outbox.map((o) => o.recipient)).toEqual(["abe5@dealer.example"]);
    const announced = await t.deps.db.selectFrom("audit").select("subject").where("event", "=", "rollout.announced").where("subject", "like", "%5").execute();
    expect(announced.map((a) => a.subject)).toEqual(["abe5"]);
  });

  it("a wave moved after its announcement mails its users the new start at the next run; the same start again mails nobody", async () => {
    await addPerson(t.deps, "kim6", "6001", { contact: "kim6@dealer.example" });
    await addPerson(t.deps, "lea6", "6001", { pending: "lea6@dealer.example" });
    await addPerson(t.deps, "mo6", "6001", { otp: "mo6@dealer.example" });
    await addPerson(t.deps, "ned6", "6002", { contact: "ned6@dealer.example" });
    const first = await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6001", from: "2027-01-11T07:00" });
    expect(first).toMatchObject({ kind: "set", toldAgain: 0 });
    expect(await announceRollout(t.deps, { partner: "6001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2 });
    expect(await announceRollout(t.deps, { partner: "6002", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1 });
    const subjects = async () =>
      (await t.deps.db.selectFrom("outbox").select(["recipient", "subject"]).where("recipient", "like", "%6@dealer.example").execute()).map((o) => `${o.recipient}: ${o.subject}`).sort();

    // The same start typed twice (a second tab, a colleague) tells nobody again.
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6001", from: "2027-01-11T07:00" })).toMatchObject({ kind: "set", toldAgain: 0 });
    expect(await announceRollout(t.deps, { partner: "6001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 0, alreadyAnnounced: 2 });

    // Moved a week: the two told 11/01 are told 18/01; the enrolled one and the other partner are not.
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6001", from: "2027-01-18T07:00" })).toMatchObject({ kind: "set", toldAgain: 2 });
    expect(await announceRollout(t.deps, { partner: null, dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2 });
    expect(await subjects()).toEqual([
      "kim6@dealer.example: FAMOS two-factor sign-in starts for you on 11/01/2027",
      "kim6@dealer.example: FAMOS two-factor sign-in starts for you on 18/01/2027",
      "lea6@dealer.example: FAMOS two-factor sign-in starts for you on 11/01/2027",
      "lea6@dealer.example: FAMOS two-factor sign-in starts for you on 18/01/2027",
      "ned6@dealer.example: FAMOS two-factor sign-in is on for you",
    ]);

    // Removed (no default: on at once), the users of 6001 are told that too.
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6001", from: null })).toMatchObject({ kind: "removed", toldAgain: 2 });
    expect(await announceRollout(t.deps, { partner: "6001", dryRun: true, actor: ACTOR })).toMatchObject({ mailed: 2, alreadyAnnounced: 0 });
  });

  it("a user moved to another partner by the import is told the start that now applies at the next run; a move between equal starts, or of an enrolled user, mails nobody", async () => {
    await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6101", from: "2027-01-18T07:00" });
    await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6102", from: "2027-01-11T07:00" });
    await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "6103", from: "2027-01-18T07:00" });
    await addPerson(t.deps, "rae6", "6101", { contact: "rae6@dealer.example" });
    await addPerson(t.deps, "sam6", "6101", { contact: "sam6@dealer.example" });
    await addPerson(t.deps, "tia6", "6101", { otp: "tia6@dealer.example" });
    expect(await announceRollout(t.deps, { partner: "6101", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2 });
    // rae6 goes to a dealership whose wave starts a week earlier, sam6 to one starting the same day; tia6 (enrolled) too.
    const row = (loginId: string, partnerNumber: string) => ({ line: 2, loginId, fullName: `Person ${loginId}`, partnerNumber, role: "user" as const, email: null, passwordHash: HASH });
    await storeImportedUsers(t.deps, [row("rae6", "6102"), row("sam6", "6103"), row("tia6", "6102")], { update: true, actor: ACTOR });
    for (const partner of ["6102", "6103"]) await announceRollout(t.deps, { partner, dryRun: false, actor: ACTOR });
    const mails = await t.deps.db.selectFrom("outbox").select(["recipient", "subject"]).where("recipient", "in", ["rae6@dealer.example", "sam6@dealer.example", "tia6@dealer.example"]).execute();
    expect(mails.map((o) => `${o.recipient}: ${o.subject}`).sort()).toEqual([
      "rae6@dealer.example: FAMOS two-factor sign-in starts for you on 11/01/2027",
      "rae6@dealer.example: FAMOS two-factor sign-in starts for you on 18/01/2027",
      "sam6@dealer.example: FAMOS two-factor sign-in starts for you on 18/01/2027",
    ]);
  });

  it("a wave moved while a run is under way (another process, between two of its mails): the rest of the run tells the new start, and the next run those told the old one", async () => {
    await addPerson(t.deps, "ann7", "7101", { contact: "ann7@dealer.example" });
    await addPerson(t.deps, "bob7", "7101", { contact: "bob7@dealer.example" });
    await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "7101", from: "2027-02-01T07:00" });
    let moved = false;
    const pace = async () => {
      if (moved) return;
      moved = true;
      expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "7101", from: "2027-02-08T07:00" })).toMatchObject({ kind: "set", toldAgain: 1 });
    };
    expect(await announceRollout(t.deps, { partner: "7101", dryRun: false, actor: ACTOR, pace })).toMatchObject({ mailed: 2 });
    expect(await announceRollout(t.deps, { partner: "7101", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyAnnounced: 1 });
    const mails = await t.deps.db.selectFrom("outbox").select(["recipient", "subject"]).where("recipient", "like", "%7@dealer.example").execute();
    expect(mails.map((o) => `${o.recipient}: ${o.subject}`).sort()).toEqual([
      "ann7@dealer.example: FAMOS two-factor sign-in starts for you on 01/02/2027",
      "ann7@dealer.example: FAMOS two-factor sign-in starts for you on 08/02/2027",
      "bob7@dealer.example: FAMOS two-factor sign-in starts for you on 08/02/2027",
    ]);
  });

  it("an announcement that bounced is listed with its address and the server's words, not counted as announced", async () => {
    const ivy = await addPerson(t.deps, "ivy8", "8001", { contact: "ivy8@gone-dealer.example" });
    await addPerson(t.deps, "jo8", "8001", { contact: "jo8@dealer.example" });
    expect(await announceRollout(t.deps, { partner: "8001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2, bounced: [] });
    const mail = await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", ivy.id).executeTakeFirstOrThrow();
    await recordBounce(t.deps, { outboxId: mail.id, kind: "hard", status: "5.1.2", reason: "550 5.1.2 bad destination system" }, "webhook");

    for (const dryRun of [true, false]) {
      const report = await announceRollout(t.deps, { partner: "8001", dryRun, actor: ACTOR });
      expect(report).toMatchObject({ mailed: 0, alreadyAnnounced: 1, withoutAddress: [] });
      expect(report.bounced).toEqual([{ partnerNumber: "8001", loginId: "ivy8", fullName: "Person ivy8", address: "ivy8@gone-dealer.example", reason: "550 5.1.2 bad destination system" }]);
    }
  });

  it("a wave moved is not mailed again to an address whose announcement bounced hard; a corrected address is", async () => {
    const ola = await addPerson(t.deps, "ola7", "7103", { contact: "ola7@gone-dealer.example" });
    await addPerson(t.deps, "pia7", "7103", { contact: "pia7@dealer.example" });
    const row = (email: string) => ({ line: 2, loginId: "ola7", fullName: "Person ola7", partnerNumber: "7103", role: "user" as const, email, passwordHash: HASH });
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "7103", from: "2027-01-11T07:00" })).toMatchObject({ toldAgain: 0 });
    expect(await announceRollout(t.deps, { partner: "7103", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2 });
    const mail = await t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", ola.id).executeTakeFirstOrThrow();
    await recordBounce(t.deps, { outboxId: mail.id, kind: "hard", status: "5.1.2", reason: "550 5.1.2 bad destination system" }, "webhook");

    // Moved: pia7 is told the new start; ola7's dead address is not mailed again, and stays listed.
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "7103", from: "2027-01-18T07:00" })).toMatchObject({ kind: "set", toldAgain: 1 });
    const report = await announceRollout(t.deps, { partner: "7103", dryRun: false, actor: ACTOR });
    expect(report).toMatchObject({ mailed: 1, alreadyAnnounced: 0 });
    expect(report.bounced.map((b) => [b.loginId, b.address])).toEqual([["ola7", "ola7@gone-dealer.example"]]);
    const sent = async () => (await t.deps.db.selectFrom("outbox").select("recipient").where("user_id", "=", ola.id).orderBy("created_at").execute()).map((o) => o.recipient);
    expect(await sent()).toEqual(["ola7@gone-dealer.example"]);

    // The address corrected by the import: mailed at the next run, and a later move tells it again.
    t.clock.advance(60_000);
    await storeImportedUsers(t.deps, [row("ola7@dealer.example")], { update: true, emailAsContact: true, actor: ACTOR });
    expect(await announceRollout(t.deps, { partner: "7103", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, bounced: [] });
    expect(await changeWave(t.deps, { user: null, audit: ACTOR }, { partner: "7103", from: "2027-01-25T07:00" })).toMatchObject({ toldAgain: 2 });
    expect(await sent()).toEqual(["ola7@gone-dealer.example", "ola7@dealer.example"]);
  });

  it("a contact address corrected by the import is announced again at the next run; the same one in other case is not", async () => {
    const row = (email: string) => ({ line: 2, loginId: "uma9", fullName: "Uma Nine", partnerNumber: "9101", role: "user" as const, email, passwordHash: HASH });
    const load = (email: string, update: boolean) => storeImportedUsers(t.deps, [row(email)], { update, emailAsContact: true, actor: ACTOR });
    await load("uma9@dealr.example", false);
    expect(await announceRollout(t.deps, { partner: "9101", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1 });
    await load("UMA9@dealr.example", true);
    expect(await announceRollout(t.deps, { partner: "9101", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 0, alreadyAnnounced: 1 });
    await load("uma9@dealer.example", true);
    expect(await announceRollout(t.deps, { partner: "9101", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyAnnounced: 0 });
  });

  it("a user announced at the address they typed and never confirmed is announced again when the import gives another contact address; the same one is not", async () => {
    const row = (loginId: string, email: string | null) => ({ line: 2, loginId, fullName: `Person ${loginId}`, partnerNumber: "9102", role: "user" as const, email, passwordHash: HASH });
    const load = (loginId: string, email: string | null, update: boolean) => storeImportedUsers(t.deps, [row(loginId, email)], { update, emailAsContact: true, actor: ACTOR });
    await load("vic9", null, false);
    await load("wes9", null, false);
    // Each typed an address at sign-in and never confirmed it (a typo, say): the announcement goes there.
    await t.deps.db.updateTable("users").set({ pending_email: "vic9@dealr.example" }).where("login_id", "=", "vic9").execute();
    await t.deps.db.updateTable("users").set({ pending_email: "wes9@dealer.example" }).where("login_id", "=", "wes9").execute();
    expect(await announceRollout(t.deps, { partner: "9102", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 2 });
    await load("vic9", "vic9@dealer.example", true);
    await load("wes9", "WES9@dealer.example", true);
    expect(await announceRollout(t.deps, { partner: "9102", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1, alreadyAnnounced: 1 });
  });
});

/**
 * The announcement tells every user where to sign in: FAMOS_PUBLIC_URL. Without it FAMOS knows only
 * its own default (http://localhost:3000), which in a dealer's mail is a link to the reader's own PC,
 * and the announcement is never sent twice: the wrong address could not be corrected by sending again.
 * In production a run without it mails and marks nobody; a dry run still counts. In development mode
 * the default is SPEC's own (a server and its users on one machine): the announcement goes, naming it.
 */
describe.each(DIALECTS)("famos rollout announce without FAMOS_PUBLIC_URL in production (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      database: dialect,
      env: { NODE_ENV: "production", FAMOS_SMTP_URL: "smtp://127.0.0.1:1", FAMOS_MAIL_FROM: "no-reply@famos.test", FAMOS_SUPPORT_EMAIL: "retailit@famos.test" },
    });
    expect(t.deps.config.production).toBe(true);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("mails and marks nobody, and says which setting to give", async () => {
    await addPerson(t.deps, "hal6", "6001", { contact: "hal6@dealer.example" });
    await expect(announceRollout(t.deps, { partner: "6001", dryRun: false, actor: ACTOR })).rejects.toThrow(
      "FAMOS_PUBLIC_URL is not set: the announcement would tell everyone to sign in at http://localhost:3000. Set it to the address staff use (such as https://famos.dealer.example) and run the command again; nobody was mailed",
    );
    expect(await t.deps.db.selectFrom("outbox").select("id").execute()).toEqual([]);
    expect(await t.deps.db.selectFrom("rollout_users").select("user_id").where("announced_at", "is not", null).execute()).toEqual([]);
    expect(await announceRollout(t.deps, { partner: "6001", dryRun: true, actor: ACTOR })).toMatchObject({ mailed: 1 });
  });
});

const BIN = fileURLToPath(new URL("../../bin/famos.js", import.meta.url));
const PEOPLE = 30;

describe.each(DIALECTS)("famos rollout announce killed half way and run again (%s)", (dialect) => {
  it("mails each user exactly once (one message, one Message-ID), and --dry-run mails no one", async () => {
    const smtp = await startSmtpServer();
    const database = await migratedTestDatabase(dialect, "announce");
    const store = openStore(database.url);
    const config = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url });
    if (!config.ok) throw new Error(config.errors.join("; "));
    const children: ChildProcess[] = [];
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FAMOS_"))),
      FAMOS_DATABASE_URL: database.url,
      FAMOS_SECRET: TEST_SECRET,
      FAMOS_SMTP_URL: smtp.url,
      FAMOS_PUBLIC_URL: PORTAL,
      FAMOS_ANNOUNCE_RATE: "10/s",
      FAMOS_LOG_LEVEL: "warn",
    };
    const famos = (args: string[]) => {
      const child = spawn(process.execPath, [BIN, "rollout", "announce", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      let stdout = "";
      child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
      const done = new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout })),
      );
      return { child, done };
    };
    try {
      await migrateToLatest(store);
      const seeding = createServices(config.config, { store, logger: pino({ level: "silent" }), startSender: false, clock: new FixedClock(Date.now()) });
      for (let i = 0; i < PEOPLE; i += 1) await addPerson(seeding.deps, `p${String(i).padStart(2, "0")}`, "3001", { contact: `p${i}@dealer.example` });

      const dry = await famos(["--dry-run"]).done;
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`${PEOPLE} would be mailed`);
      expect(smtp.messages).toHaveLength(0);
      expect(await store.db.selectFrom("outbox").select("id").execute()).toHaveLength(0);

      const first = famos([]);
      await smtp.waitForMessage(() => smtp.messages.length >= PEOPLE / 3, 30_000);
      first.child.kill("SIGKILL");
      expect((await first.done).signal).toBe("SIGKILL");
      const announced = await store.db.selectFrom("rollout_users").select("user_id").where("announced_at", "is not", null).execute();
      expect(announced.length).toBeGreaterThanOrEqual(PEOPLE / 3);
      expect(announced.length).toBeLessThan(PEOPLE);

      const second = await famos([]).done;
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`${PEOPLE - announced.length} mailed, ${announced.length} already announced (not mailed again)`);

      // A message the killed process was handing to SMTP stays leased for a minute; a sender one
      // minute later (a fixed clock, not a wait) sends it, with the same Message-ID (at least once).
      const later = createServices(config.config, {
        store,
        clock: new FixedClock(Date.now() + 120_000),
        transport: smtpTransport(smtp.url),
        logger: pino({ level: "silent" }),
        startSender: false,
      });
      await later.sender.drain();
      await until("every announcement sent", async () => (await store.db.selectFrom("outbox").select("id").where("state", "!=", "sent").execute()).length === 0, 10_000, 50);

      for (let i = 0; i < PEOPLE; i += 1) {
        const received = smtp.messages.filter((m) => m.envelopeTo.includes(`p${i}@dealer.example`));
        expect(new Set(received.map((m) => m.messageId)).size, `p${i}`).toBe(1);
      }
      const outbox = await store.db.selectFrom("outbox").select(["user_id"]).execute();
      expect(new Set(outbox.map((o) => o.user_id)).size).toBe(PEOPLE);
      expect(outbox).toHaveLength(PEOPLE);

      const after = await famos(["--dry-run"]).done;
      expect(after.stdout).toContain(`0 would be mailed, ${PEOPLE} already announced`);
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await store.close();
      await smtp.stop();
      await database.drop();
    }
  }, 90_000);
});

describe("famos rollout announce without FAMOS_PUBLIC_URL in development mode", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({});
    expect(t.deps.config.production).toBe(false);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("mails, naming SPEC's default address", async () => {
    await addPerson(t.deps, "ida7", "7001", { contact: "ida7@dealer.example" });
    expect(await announceRollout(t.deps, { partner: "7001", dryRun: false, actor: ACTOR })).toMatchObject({ mailed: 1 });
    const [mail] = await t.deps.db.selectFrom("outbox").select(["recipient", "text_body"]).execute();
    expect(mail!.recipient).toBe("ida7@dealer.example");
    expect(mail!.text_body).toContain(t.deps.config.publicUrl.origin);
  });
});
