import { describe, expect, it } from "vitest";
import { forgetOtherKeys, keepFingerprint, keyedPassBegins, keyedPassDone, keyedRowsUnchanged, type KeyedRows } from "../../src/store/key-fingerprints.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * A start's pass over rows made under a key (src/store/key-fingerprints.ts), on in-memory SQLite: `next`
 * kept first, `kept` only when `next` is still the pass's own at the end, a writer under another key
 * forgetting the pass's fingerprints. Each case with rows of its own name, so the cases share no state.
 * The integration tests (login digests, secret-previous-start) reach these through a start; run C14 found no unit test.
 */
describe("key_fingerprints' pass (unit tier)", () => {
  const unit = useUnitDeps();
  let n = 0;
  const rowsOf = (): KeyedRows => ((n += 1), { kept: `t${n}-kept`, next: `t${n}-next`, table: "users" });
  const state = async (rows: KeyedRows) => {
    const found = await unit.deps.db.selectFrom("key_fingerprints").select(["purpose", "fingerprint"]).where("purpose", "in", [rows.kept, rows.next]).execute();
    return { kept: found.find((r) => r.purpose === rows.kept)?.fingerprint ?? null, next: found.find((r) => r.purpose === rows.next)?.fingerprint ?? null };
  };

  it("unchanged only when kept is this key and no pass is half-way", async () => {
    const rows = rowsOf();
    expect(await keyedRowsUnchanged(unit.deps.db, rows, "A")).toBe(false);
    await keepFingerprint(unit.deps.db, rows.kept, "A");
    expect(await keyedRowsUnchanged(unit.deps.db, rows, "A")).toBe(true);
    expect(await keyedRowsUnchanged(unit.deps.db, rows, "B")).toBe(false);
    await keepFingerprint(unit.deps.db, rows.next, "A");
    expect(await keyedRowsUnchanged(unit.deps.db, rows, "A")).toBe(false);
    // keepFingerprint replaces what a purpose had.
    await keepFingerprint(unit.deps.db, rows.next, "B");
    expect(await state(rows)).toEqual({ kept: "A", next: "B" });
  });

  it("a pass alone: begins as next, done keeps it as kept and clears next", async () => {
    const rows = rowsOf();
    await keyedPassBegins(unit.deps.db, "sqlite", rows, "A");
    expect(await state(rows)).toEqual({ kept: null, next: "A" });
    expect(await keyedPassDone(unit.deps.db, "sqlite", rows, "A")).toBe(true);
    expect(await state(rows)).toEqual({ kept: "A", next: null });
    expect(await keyedRowsUnchanged(unit.deps.db, rows, "A")).toBe(true);
  });

  it("another pass took next meanwhile: not kept, next left as this key's for the next start", async () => {
    const rows = rowsOf();
    await keepFingerprint(unit.deps.db, rows.kept, "A");
    await keyedPassBegins(unit.deps.db, "sqlite", rows, "B");
    await keyedPassBegins(unit.deps.db, "sqlite", rows, "C");
    expect(await keyedPassDone(unit.deps.db, "sqlite", rows, "B")).toBe(false);
    expect(await state(rows)).toEqual({ kept: "A", next: "B" });
  });

  it("a writer under another key forgot next: kept only if kept is this key already", async () => {
    const rows = rowsOf();
    await keyedPassBegins(unit.deps.db, "sqlite", rows, "A");
    await forgetOtherKeys(unit.deps.db, rows, "B");
    expect(await state(rows)).toEqual({ kept: null, next: null });
    expect(await keyedPassDone(unit.deps.db, "sqlite", rows, "A")).toBe(false);
    expect(await state(rows)).toEqual({ kept: null, next: "A" });
    // Another pass finished meanwhile under this key (next gone, kept ours): kept stays, next cleared.
    const other = rowsOf();
    await keepFingerprint(unit.deps.db, other.kept, "A");
    expect(await keyedPassDone(unit.deps.db, "sqlite", other, "A")).toBe(true);
    expect(await state(other)).toEqual({ kept: "A", next: null });
  });

  it("forgetOtherKeys forgets only other keys' fingerprints of these rows", async () => {
    const rows = rowsOf();
    const beside = rowsOf();
    await keepFingerprint(unit.deps.db, rows.kept, "A");
    await keepFingerprint(unit.deps.db, rows.next, "B");
    await keepFingerprint(unit.deps.db, beside.kept, "A");
    await keepFingerprint(unit.deps.db, beside.next, "C");
    await forgetOtherKeys(unit.deps.db, rows, "B");
    expect(await state(rows)).toEqual({ kept: null, next: "B" });
    expect(await state(beside)).toEqual({ kept: "A", next: "C" });
    await forgetOtherKeys(unit.deps.db, rows, "B");
    expect(await state(rows)).toEqual({ kept: null, next: "B" });
  });
});
