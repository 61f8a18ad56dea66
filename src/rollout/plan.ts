import type { Kysely } from "kysely";
import type { Dialect } from "../store/database.ts";
import type { Database } from "../store/schema.ts";

/** The plan row that holds the default start; every other row is one partner's own start. */
export const DEFAULT_WAVE = "*";

export interface Wave {
  /** A partner number, or null for the default start. */
  partnerNumber: string | null;
  startsAt: number;
  updatedAt: number;
  updatedBy: string;
}

export interface RolloutPlan {
  defaultStart: number | null;
  /** Partner number → that partner's start. */
  partners: Map<string, number>;
  waves: Wave[];
}

/** The whole plan, default first, then partners in order. Small: one row per wave. */
export async function readPlan(db: Kysely<Database>): Promise<RolloutPlan> {
  const rows = await db.selectFrom("rollout_plan").selectAll().orderBy("partner_number").execute();
  const waves = rows.map((r) => ({
    partnerNumber: r.partner_number === DEFAULT_WAVE ? null : r.partner_number,
    startsAt: Number(r.starts_at),
    updatedAt: Number(r.updated_at),
    updatedBy: r.updated_by,
  }));
  waves.sort((a, b) => (a.partnerNumber === null ? -1 : b.partnerNumber === null ? 1 : 0));
  return {
    defaultStart: waves.find((w) => w.partnerNumber === null)?.startsAt ?? null,
    partners: new Map(waves.filter((w) => w.partnerNumber !== null).map((w) => [w.partnerNumber!, w.startsAt])),
    waves,
  };
}

/**
 * When two-factor sign-in starts for a partner's staff: the partner's own start, else the default,
 * else null — no plan, so it applies to everyone already (the behaviour before rollouts existed).
 */
export async function startFor(db: Kysely<Database>, partnerNumber: string): Promise<number | null> {
  const rows = await db
    .selectFrom("rollout_plan")
    .select(["partner_number", "starts_at"])
    .where("partner_number", "in", [partnerNumber, DEFAULT_WAVE])
    .execute();
  const own = rows.find((r) => r.partner_number === partnerNumber) ?? rows.find((r) => r.partner_number === DEFAULT_WAVE);
  return own ? Number(own.starts_at) : null;
}

/**
 * The waves a start of `partnerNumber`'s staff depends on (its own and the default), held to the end of
 * the caller's transaction on PostgreSQL: FOR SHARE by a password-only sign-in, FOR UPDATE by a wave
 * change (changeWave), which takes the default's row whatever wave it changes, so a wave added for a
 * partner waits too. A sign-in's session and a change's cut of the password-only sessions
 * (endPasswordOnlyBeforeStart) then come one after the other; SQLite's one writer already runs them so.
 */
export async function holdWaves(tx: Kysely<Database>, dialect: Dialect, partnerNumber: string | null | readonly string[], mode: "share" | "update"): Promise<void> {
  if (dialect !== "postgres") return;
  // Several partners: an import's batch that moves users between them (endPasswordOnlyForMove).
  const partners = typeof partnerNumber === "string" || partnerNumber === null ? [partnerNumber ?? DEFAULT_WAVE] : partnerNumber;
  const rows = tx.selectFrom("rollout_plan").select("partner_number").where("partner_number", "in", [...partners, DEFAULT_WAVE]);
  await (mode === "share" ? rows.forShare() : rows.forUpdate()).execute();
}

/**
 * The start of a password-only sign-in's wave, read in the transaction that makes its session, after
 * holding the waves (holdWaves): null when it has come (or there is no plan) by now. The decision read
 * before that transaction may be stale: a wave moved to now and committed in between left the new
 * session the old end, days away (test/rollout/wave-change-race.test.ts). A second statement, after the
 * lock: on PostgreSQL it sees a wave a change added for the partner while this one waited.
 */
export async function heldWaveStart(tx: Kysely<Database>, dialect: Dialect, partnerNumber: string, now: number): Promise<number | null> {
  await holdWaves(tx, dialect, partnerNumber, "share");
  const startsAt = await startFor(tx, partnerNumber);
  return startsAt !== null && now < startsAt ? startsAt : null;
}

/** The same answer from a plan already read (pages and reports that cover many partners). */
export function startInPlan(plan: RolloutPlan, partnerNumber: string): number | null {
  return plan.partners.get(partnerNumber) ?? plan.defaultStart;
}

/** Sets (or moves) one wave's start: `partnerNumber` null is the default start. */
export async function setWaveStart(db: Kysely<Database>, partnerNumber: string | null, startsAt: number, now: number, by: string): Promise<void> {
  await db
    .insertInto("rollout_plan")
    .values({ partner_number: partnerNumber ?? DEFAULT_WAVE, starts_at: startsAt, updated_at: now, updated_by: by })
    .onConflict((oc) => oc.column("partner_number").doUpdateSet({ starts_at: startsAt, updated_at: now, updated_by: by }))
    .execute();
}

/** Removes one wave: the partner then follows the default start (or, for the default, no plan). */
export async function removeWave(db: Kysely<Database>, partnerNumber: string | null): Promise<boolean> {
  const result = await db.deleteFrom("rollout_plan").where("partner_number", "=", partnerNumber ?? DEFAULT_WAVE).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
