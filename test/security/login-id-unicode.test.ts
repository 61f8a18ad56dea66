import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseUser } from "../../src/account/erase.ts";
import { checkImportFile, IMPORT_COLUMNS } from "../../src/cli/import-file.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateTo, migrateToLatest } from "../../src/store/migrate.ts";
import { sameLoginId } from "../../src/support/identity-match.ts";
import { usersMissingFromFile } from "../../src/users/sync.ts";
import { loginDigest } from "../../src/users/login-digest.ts";
import { findUserByLogin, loginKey, userRow, type User } from "../../src/users/users.ts";
import { bcryptHash } from "../cli/import-fixtures.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient } from "../support/client.ts";
import { DIALECTS, testDatabase, type TestDatabase, type TestDialect } from "../store/dialects.ts";
import { TEST_KEYS } from "../support/login-counter.ts";

const ENROLMENT = { allowedDomains: [], sharedMailboxPolicy: "warn" as const, sharedMailboxNames: [] };

/**
 * A login ID with accents is one text however its accents are composed (Unicode canonical
 * equivalence): "ü" as U+00FC (NFC, as Windows and most keyboards type it) or as "u" and U+0308
 * (NFD, as a staff list exported on a Mac often has it). The two look the same on every screen.
 */
describe("login IDs that differ only in how their accents are composed", () => {
  let t: TestApp;
  const stamp = Date.now().toString(36);
  const composed = `jürgen.müller.${stamp}`.normalize("NFC");
  const decomposed = composed.normalize("NFD");

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it("are one login key", () => {
    expect(decomposed).not.toBe(composed);
    expect(loginKey(decomposed)).toBe(loginKey(composed));
    expect(loginKey(` ${decomposed.toUpperCase()} `)).toBe(loginKey(composed));
    expect(sameLoginId(decomposed, composed)).toBe(true);
  });

  it("are a repeated login ID in an import file: neither row makes a second account that looks the same", () => {
    const hash = bcryptHash("correct horse battery staple");
    const row = (id: string) => `${id},Jürgen Müller,0100,user,,${hash}`;
    const checked = checkImportFile([IMPORT_COLUMNS.join(","), row(composed), row(decomposed)].join("\n"), ENROLMENT);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.rows).toEqual([]);
    expect(checked.refused).toEqual([2, 3].map((line) => ({ line, reason: expect.stringMatching(/appears on lines 2, 3/) as unknown })));
  });

  it("a staff list with the other composition keeps the existing account under --sync, and it signs in as typed either way", async () => {
    const user = await addUser(t.deps, { loginId: composed, partnerNumber: "0100" });
    // The dealer's list, exported on a Mac: the same person, decomposed.
    const missing = await usersMissingFromFile(t.deps.db, [{ loginId: decomposed, partnerNumber: "0100" }]);
    expect(missing.map((u) => u.login_id)).not.toContain(composed);
    expect((await findUserByLogin(t.deps.db, decomposed))?.id).toBe(user.id);

    const client = new FormClient(t.app);
    await client.get("/login");
    const answer = await client.post("/login", { loginId: decomposed, password: user.password });
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/otp");
  });

  it("erasing the account erases the form she typed, in either composition (GDPR art. 17)", async () => {
    const loginId = `sören.${stamp}`;
    const user = await addUser(t.deps, { loginId, partnerNumber: "0100" });
    const typed = `  SÖREN.${stamp}`.normalize("NFD");
    const client = new FormClient(t.app);
    await client.get("/login");
    expect((await client.post("/login", { loginId: typed, password: "not her password at all" })).statusCode).toBe(401);
    const before = JSON.stringify(await t.deps.db.selectFrom("audit").select("detail").execute());
    expect(before).toContain(JSON.stringify(typed).slice(1, -1));
    const outcome = await eraseUser(t.deps, { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "famos-cli" } }, user.id);
    expect(outcome.kind).toBe("erased");
    const trail = JSON.stringify(await t.deps.db.selectFrom("audit").select(["actor", "subject", "detail"]).execute());
    expect(trail).not.toContain(`ren.${stamp}`);
  });
});

describe.each(DIALECTS)("migration 013 on %s: keys stored before in decomposed form", (dialect: TestDialect) => {
  let database: TestDatabase;
  let store: Store;
  const stamp = Date.now().toString(36);
  const row = (id: string, loginId: string, key: string) => ({
    ...withoutDigest(userRow(TEST_KEYS, cryptoRandom, 1, { loginId, fullName: "Jürgen Müller", partnerNumber: "0100", role: "user", passwordHash: "x", otpEmail: null })),
    id,
    login_key: key,
  });
  // A row as an older FAMOS wrote it: no login_digest (migration 021), no strong_factor_at (026).
  const withoutDigest = ({ login_digest: _digest, strong_factor_at: _strong, ...rest }: User) => rest;

  beforeAll(async () => {
    database = await testDatabase(dialect, `nfc_${dialect}`);
    store = openStore(database.url);
    await migrateTo(store, "012-retention-indexes");
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("get their composed key, so their owners still sign in; one whose composed key another account holds keeps its own", async () => {
    const alone = `Jürgen.${stamp}`.normalize("NFD");
    const pair = `Sören.${stamp}`;
    await store.db
      .insertInto("users")
      .values([
        row("u-alone", alone, alone.toLowerCase()),
        row("u-ascii", `Plain.${stamp}`, `plain.${stamp}`),
        row("u-pair-nfc", pair.normalize("NFC"), pair.normalize("NFC").toLowerCase()),
        row("u-pair-nfd", pair.normalize("NFD"), pair.normalize("NFD").toLowerCase()),
      ] as never)
      .execute();
    await migrateToLatest(store, TEST_KEYS);
    const keys = Object.fromEntries((await store.db.selectFrom("users").select(["id", "login_key"]).execute()).map((u) => [u.id, u.login_key]));
    expect(keys).toEqual({
      "u-alone": loginKey(alone),
      "u-ascii": `plain.${stamp}`,
      "u-pair-nfc": loginKey(pair),
      "u-pair-nfd": pair.normalize("NFD").toLowerCase(),
    });
    expect((await findUserByLogin(store.db, `jürgen.${stamp}`.normalize("NFC")))?.id).toBe("u-alone");
    // The pair kept apart has one digest, as it has one set of counters (migrations 019 and 021).
    const digests = await store.db.selectFrom("users").select(["id", "login_digest"]).where("id", "in", ["u-pair-nfc", "u-pair-nfd"]).execute();
    expect(new Set(digests.map((u) => u.login_digest))).toEqual(new Set([loginDigest(TEST_KEYS, pair)]));
  });
});
