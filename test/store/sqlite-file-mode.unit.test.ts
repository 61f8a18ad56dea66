import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * The SQLite database holds every account's password hash (imported bcrypt and PBKDF2 ones among them),
 * names, addresses and the audit trail. Made by `famos migrate` or `famos serve` under a shell's usual
 * umask (022) outside the systemd unit (UMask=0077), it was readable by every local user (0644, in a
 * 0755 directory FAMOS made). A database FAMOS makes is its owner's alone; one that exists keeps its mode.
 */
describe("the SQLite files FAMOS makes", () => {
  const dir = mkdtempSync(join(tmpdir(), "famos-mode-"));
  let umask = 0;
  beforeEach(() => (umask = process.umask(0o022)));
  afterEach(() => void process.umask(umask));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a new database, its write-ahead log and shared memory file 0600, and a directory it makes 0700, under umask 022", async () => {
    const path = join(dir, "data", "famos.db");
    const store = openStore(`sqlite:${path}`);
    try {
      await migrateToLatest(store);
      expect(mode(join(dir, "data"))).toBe(0o700);
      expect(mode(path)).toBe(0o600);
      expect(mode(`${path}-wal`)).toBe(0o600);
      expect(mode(`${path}-shm`)).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it("leaves the mode of a directory and a database that exist as the operator set it", async () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o750);
    const first = openStore(`sqlite:${join(shared, "famos.db")}`);
    await migrateToLatest(first);
    await first.close();
    chmodSync(join(shared, "famos.db"), 0o640);
    const again = openStore(`sqlite:${join(shared, "famos.db")}`);
    try {
      await migrateToLatest(again);
      expect(mode(shared)).toBe(0o750);
      expect(mode(join(shared, "famos.db"))).toBe(0o640);
    } finally {
      await again.close();
    }
  });
});
