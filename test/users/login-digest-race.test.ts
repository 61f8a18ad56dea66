import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Keys } from "../../src/platform/keys.ts";
import { loginDigest, refreshLoginDigestsIfKeyChanged } from "../../src/users/login-digest.ts";
import { createUser, type NewUser } from "../../src/users/users.ts";
import { TEST_KEYS } from "../support/login-counter.ts";
import { afterFirstResult } from "../store/after-result.ts";
import { DIALECTS, openInstances, type TestDialect } from "../store/dialects.ts";

/**
 * The digest race mid-refresh: an account created by another instance while this one makes the
 * digests again under its FAMOS_SECRET (refreshLoginDigestsIfKeyChanged) ended either without a
 * digest (created under the new key while the kept fingerprint was still the old one's) or with the
 * old key's for good (created under the old key after the refresh read past it, before the new
 * fingerprint was kept). Every account must end with a digest under the key the refresh keeps.
 * Each account is created on a second instance (its own connection) right after the refresh has read
 * its batch of accounts: the worst moment, made certain by a plugin on the refreshing instance.
 */
const oldKeys: Pick<Keys, "loginId"> = { loginId: Buffer.alloc(32, 7) };
const person = (loginId: string): NewUser => ({ loginId, fullName: loginId, partnerNumber: "7", role: "user", passwordHash: "x", otpEmail: null });

describe.each(DIALECTS)("an account created while the digests are made again, on %s", (dialect: TestDialect) => {
  let t: Awaited<ReturnType<typeof openInstances>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const digests = async () =>
    Object.fromEntries((await t!.deps[0]!.db.selectFrom("users").select(["login_key", "login_digest"]).execute()).map((u) => [u.login_key, u.login_digest]));

  it.each([
    ["the old secret (an instance not yet restarted)", oldKeys],
    ["the new secret (another instance already restarted)", TEST_KEYS],
  ])("created under %s: ends with the new key's digest", async (_name, creatorKeys) => {
    t = await openInstances(dialect, 2, `digest_race_${dialect}`);
    const [refresher, creator] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    // Made under the old secret, its fingerprint kept.
    await createUser(creator.db, oldKeys, creator.random, now, person("Anna"));
    await refreshLoginDigestsIfKeyChanged(creator.db, oldKeys, dialect);
    // The new secret's start makes them again; another instance creates Dora meanwhile.
    const racing = refresher.db.withPlugin(afterFirstResult(["login_key", "login_digest"], async () => void (await createUser(creator.db, creatorKeys, creator.random, now, person("Dora")))));
    await refreshLoginDigestsIfKeyChanged(racing, refresher.keys, dialect);
    expect(await digests()).toEqual({ anna: loginDigest(refresher.keys, "anna"), dora: loginDigest(refresher.keys, "dora") });
    // And the next start has nothing to do.
    expect(await refreshLoginDigestsIfKeyChanged(refresher.db, refresher.keys, dialect)).toBe(0);
  });

  it("two starts at once under different keys: whichever key ends kept, every digest is that key's (after at most the next start)", async () => {
    t = await openInstances(dialect, 2, `digest_two_keys_${dialect}`);
    const [first, second] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    await createUser(first.db, oldKeys, first.random, now, person("Anna"));
    await createUser(first.db, oldKeys, first.random, now, person("Ben"));
    await refreshLoginDigestsIfKeyChanged(first.db, oldKeys, dialect);
    const otherKeys: Pick<Keys, "loginId"> = { loginId: Buffer.alloc(32, 9) };
    // The first start has written its digests and sweeps the undigested: the second, under another
    // key, starts and ends meanwhile (the plugin fires on the sweep's read, the second listing read).
    let reads = 0;
    const listings = new WeakSet<object>();
    const plugin: KyselyPlugin = {
      transformQuery: (args: PluginTransformQueryArgs) => {
        if (args.node.kind === "SelectQueryNode" && JSON.stringify(args.node).includes('"login_key"')) listings.add(args.queryId);
        return args.node;
      },
      async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        if (listings.has(args.queryId)) reads += 1;
        if (reads === 2) {
          reads += 1;
          await refreshLoginDigestsIfKeyChanged(second.db, otherKeys, dialect);
        }
        return args.result;
      },
    };
    await refreshLoginDigestsIfKeyChanged(first.db.withPlugin(plugin), first.keys, dialect);
    expect(reads).toBe(3);
    // Whichever key the next start (of either) finds kept, after it the digests are all under it.
    for (const keys of [first.keys, otherKeys]) {
      await refreshLoginDigestsIfKeyChanged(first.db, keys, dialect);
      expect(await digests()).toEqual({ anna: loginDigest(keys, "anna"), ben: loginDigest(keys, "ben") });
      expect(await refreshLoginDigestsIfKeyChanged(first.db, keys, dialect)).toBe(0);
    }
  });

  it("two starts at once under the same key (one drops next while the other still works): the digests are that key's, and the next start has nothing to do", async () => {
    t = await openInstances(dialect, 2, `digest_same_key_${dialect}`);
    const [first, second] = t.deps as [(typeof t.deps)[0], (typeof t.deps)[0]];
    const now = t.clock.now();
    await createUser(first.db, oldKeys, first.random, now, person("Anna"));
    await refreshLoginDigestsIfKeyChanged(first.db, oldKeys, dialect);
    let fired = false;
    const plugin: KyselyPlugin = {
      transformQuery: (args: PluginTransformQueryArgs) => args.node,
      async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
        const row = args.result.rows[0];
        if (!fired && row && "login_key" in row) {
          fired = true;
          // The second start, same key, runs whole and drops next; then an old instance creates Dora.
          await refreshLoginDigestsIfKeyChanged(second.db, first.keys, dialect);
          await createUser(second.db, oldKeys, second.random, now, person("Dora"));
        }
        return args.result;
      },
    };
    await refreshLoginDigestsIfKeyChanged(first.db.withPlugin(plugin), first.keys, dialect);
    expect(fired).toBe(true);
    expect(await digests()).toEqual({ anna: loginDigest(first.keys, "anna"), dora: loginDigest(first.keys, "dora") });
    expect(await refreshLoginDigestsIfKeyChanged(first.db, first.keys, dialect)).toBe(0);
  });

  it("createUser returns the account as stored: without a digest when it was kept without one", async () => {
    t = await openInstances(dialect, 1, `digest_returned_${dialect}`);
    const deps = t.deps[0]!;
    await refreshLoginDigestsIfKeyChanged(deps.db, deps.keys, dialect);
    const other = await createUser(deps.db, oldKeys, deps.random, t.clock.now(), person("Dora"));
    const same = await createUser(deps.db, deps.keys, deps.random, t.clock.now(), person("Ben"));
    const stored = await digests();
    expect(other!.login_digest).toBeNull();
    expect([other!.login_digest, same!.login_digest]).toEqual([stored.dora, stored.ben]);
    expect(same!.login_digest).toBe(loginDigest(deps.keys, "ben"));
  });
});
