import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preparedInsert, preparedQuery } from "../../src/store/prepared.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { logStatements } from "../support/statement-log.ts";

/** Issue 17: queries compiled once run each call's own values, inside and outside transactions. */
describe("prepared queries", () => {
  let store: Store;
  beforeAll(async () => {
    store = openStore("sqlite::memory:");
    await migrateToLatest(store);
  });
  afterAll(async () => store.close());

  const insertDevice = preparedInsert("devices", ["id", "login_key", "created_at", "last_used_at", "revoked_at"]);
  const lastUsed = preparedQuery((db, id: string) => db.selectFrom("devices").select("last_used_at").where("id", "=", id));
  const row = (id: string, at: number) => ({ id, login_key: "k", created_at: 1, last_used_at: at, revoked_at: null });

  it("binds each call's values, in a transaction as outside one", async () => {
    await insertDevice(store.db, row("a", 1));
    await store.db.transaction().execute(async (tx) => {
      await insertDevice(tx, row("b", 2));
      expect(await lastUsed(tx, "b")).toEqual([{ last_used_at: 2 }]);
    });
    expect(await lastUsed(store.db, "a")).toEqual([{ last_used_at: 1 }]);
    expect(await lastUsed(store.db, "b")).toEqual([{ last_used_at: 2 }]);
    expect(await lastUsed(store.db, "none")).toEqual([]);
  });

  it("runs past no other caller's open transaction: a statement from outside waits for it and survives its rollback", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const rolledBack = store.db
      .transaction()
      .execute(async (tx) => {
        await insertDevice(tx, row("inside", 5));
        opened();
        await held;
        throw new Error("roll back");
      })
      .catch((error: Error) => error.message);
    await isOpen;
    let outsideDone = false;
    const outside = insertDevice(store.db, row("outside", 6)).then(() => (outsideDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(outsideDone).toBe(false);
    release();
    expect(await rolledBack).toBe("roll back");
    await outside;
    expect(await lastUsed(store.db, "outside")).toEqual([{ last_used_at: 6 }]);
    expect(await lastUsed(store.db, "inside")).toEqual([]);
  });

  it("writes integer constants such as a LIMIT into SQLite's text (a bound LIMIT is prepared again at every run) and binds the arguments", async () => {
    const newest = preparedQuery((db, key: string) =>
      db.selectFrom("devices").select("id").where("login_key", "=", key).where("revoked_at", "is", null).where("id", "!=", "it's ?").orderBy("last_used_at", "desc").limit(2),
    );
    for (const [id, at] of [["n1", 10], ["n2", 30], ["n3", 20]] as const) await insertDevice(store.db, { ...row(id, at), login_key: "newest" });
    const log = logStatements();
    try {
      const [sql] = await log.record(async () => expect(await newest(store.db, "newest")).toEqual([{ id: "n2" }, { id: "n3" }]));
      expect(sql).toMatch(/limit 2$/);
      expect(sql!.match(/\?/g)).toHaveLength(2);
    } finally {
      log.stop();
    }
    expect(await newest(store.db, "nobody")).toEqual([]);
  });

  it("refuses a build that uses an argument for the query's shape, and a row with other columns", async () => {
    const shaped = preparedQuery((db, limit: number) => db.selectFrom("devices").select("id").limit(Number(limit) || 1));
    await expect(shaped(store.db, 5)).rejects.toThrow(/does not reach the query as a value/);
    await expect(insertDevice(store.db, { ...row("c", 1), extra: 1 } as never)).rejects.toThrow(/columns/);
  });
});
