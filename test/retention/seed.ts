import type { Kysely } from "kysely";
import type { Database } from "../../src/store/schema.ts";

const DAY = 86_400_000;

export interface SeedCounts {
  sessions: number;
  flows: number;
  mail: number;
  throttles: number;
  auditOld: number;
  auditToScrub: number;
}

async function insertMany<T>(count: number, make: (i: number) => T, insert: (rows: T[]) => Promise<unknown>): Promise<void> {
  for (let from = 0; from < count; from += 500) {
    const rows: T[] = [];
    for (let i = from; i < Math.min(count, from + 500); i += 1) rows.push(make(i));
    await insert(rows);
  }
}

/**
 * Expired rows of every kind the retention job removes, as a FAMOS that ran for a year without it
 * would hold: sessions past their lifetime, old flows with a code each, sent mail, idle failure
 * counts, events past the keep time and events past the pseudonymise time. All belong to `userId`.
 */
export async function seedExpired(db: Kysely<Database>, userId: string, now: number, n: SeedCounts): Promise<void> {
  const old = now - 40 * DAY;
  await insertMany(n.sessions, (i) => ({
    token_hash: `old-token-${i}`, id: `old-session-${i}`, user_id: userId, stage: "full" as const, flow_id: null,
    created_at: old, last_seen_at: old, expires_at: old + 12 * 3_600_000, verified_at: old, ip: "192.0.2.1", user_agent: "old", ended_at: null, end_reason: null,
  }), (rows) => db.insertInto("sessions").values(rows).execute());
  await insertMany(n.flows, (i) => ({
    id: `old-flow-${i}`, user_id: userId, kind: "signin" as const, email: "old@dealer.example", created_at: old, codes_sent: 1, last_code_at: old, finished_at: old, return_to: null,
  }), (rows) => db.insertInto("flows").values(rows).execute());
  await insertMany(n.flows, (i) => ({
    id: `old-code-${i}`, flow_id: `old-flow-${i}`, user_id: userId, code_hash: "h", email: "old@dealer.example", outbox_id: null,
    created_at: old, expires_at: old + 900_000, tries: 0, consumed_at: old, voided_at: null, void_reason: null,
  }), (rows) => db.insertInto("codes").values(rows).execute());
  await insertMany(n.mail, (i) => ({
    id: `old-mail-${i}`, user_id: userId, kind: "code.signin", recipient: "old@dealer.example", subject: "s", text_body: "", html_body: "",
    message_id: `<old-${i}@famos.test>`, state: "sent" as const, attempts: 1, next_attempt_at: old, lease_until: null, last_error: null, created_at: old, sent_at: old,
  }), (rows) => db.insertInto("outbox").values(rows).execute());
  await insertMany(n.throttles, (i) => ({ key: `password:id:old-${i}`, failures: 2, locked_until: 0, hard_locked: 0, updated_at: old - 31 * DAY }), (rows) =>
    db.insertInto("throttles").values(rows).execute(),
  );
  await insertMany(n.auditOld, (i) => ({ time: now - 500 * DAY + i, event: "password.ok", actor: "old", subject: "old", ip: "192.0.2.1", user_agent: "old", detail: "{}" }), (rows) =>
    db.insertInto("audit").values(rows).execute(),
  );
  await insertMany(n.auditToScrub, (i) => ({ time: now - 200 * DAY + i, event: "code.confirmed", actor: "mid", subject: "mid", ip: "192.0.2.2", user_agent: "mid", detail: "{}" }), (rows) =>
    db.insertInto("audit").values(rows).execute(),
  );
}
