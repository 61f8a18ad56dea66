import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Keys } from "../../src/platform/keys.ts";
import { loginDigest, refreshLoginDigestsIfKeyChanged } from "../../src/users/login-digest.ts";
import { createUser, type NewUser } from "../../src/users/users.ts";
import { openInstances } from "../store/dialects.ts";
import { until, within } from "../support/until.ts";

/**
 * An account created in a transaction still open while another instance's start makes the digests
 * again under a new FAMOS_SECRET (PostgreSQL, read committed: the start cannot see the row until it
 * commits). The creator decided, before the start kept its key as next, to keep its old key's digest;
 * the start read every account and swept those without one before the commit. Before, the account kept
 * the old key's digest for good (the next start found its own fingerprint and nothing null). SQLite
 * has one writer: the start's first write waits for the creator's commit there.
 */
const oldKeys: Pick<Keys, "loginId"> = { loginId: Buffer.alloc(32, 7) };
const person = (loginId: string): NewUser => ({ loginId, fullName: loginId, partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });

describe("an account created in a transaction open across a start under a new key, on postgres", () => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("ends with the new key's digest (or one the next start makes), never the old key's", async () => {
    t = await openInstances("postgres", 2, "digest_open_create");
    const [refresher, creator] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    await createUser(creator.db, oldKeys, creator.random, now, person("Anna"));
    await refreshLoginDigestsIfKeyChanged(creator.db, oldKeys, "postgres");
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => (commit = resolve));
    let created!: () => void;
    const isCreated = new Promise<void>((resolve) => (created = resolve));
    const creating = creator.db.transaction().execute(async (tx) => {
      await createUser(tx, oldKeys, creator.random, now, person("Dora"));
      created();
      await committed;
    });
    await isCreated;
    let finished = false;
    const start = refreshLoginDigestsIfKeyChanged(refresher.db, refresher.keys, "postgres").finally(() => (finished = true));
    // Either the start went through while the creator's transaction is open, or it waits for it.
    await until("the start done or waiting", async () => {
      if (finished) return true;
      const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_locks where not granted`.execute(creator.db);
      return waiting.rows[0]!.n > 0;
    });
    commit();
    await within(creating, "the creator's commit");
    await within(start, "the start");
    // Whatever the next start (same key) makes, the digests end under the kept key.
    await refreshLoginDigestsIfKeyChanged(refresher.db, refresher.keys, "postgres");
    const rows = await refresher.db.selectFrom("users").select(["login_key", "login_digest"]).orderBy("login_key").execute();
    expect(rows).toEqual([
      { login_key: "anna", login_digest: loginDigest(refresher.keys, "anna") },
      { login_key: "dora", login_digest: loginDigest(refresher.keys, "dora") },
    ]);
  });
});
