import type { Kysely } from "kysely";
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
