import type { Kysely } from "kysely";
import { hmacHex, type Keys } from "../platform/keys.ts";
import type { Random } from "../platform/random.ts";
import type { Dialect } from "../store/database.ts";
import { forgetOtherKeys, keepFingerprint, keyedPassBegins, keyedPassDone, keyedRowsUnchanged, type KeyedRows } from "../store/key-fingerprints.ts";
import type { Database } from "../store/schema.ts";
import { openUnderEither, sealSecret } from "./secret-box.ts";

/**
 * After a change of FAMOS_SECRET: what is still made under the secret before it (SECURITY.md,
 * "Changing FAMOS_SECRET"). An authenticator app's secret is sealed, so it is opened under the old key
 * and sealed again under the new one, offline. A recovery code is kept only as its HMAC: it can be kept
 * under the new key only when its holder types it (recovery-codes.ts), so what is told is how many unused
 * codes were issued before the change was first seen (by the first `famos serve` start, or `famos reseal`,
 * with FAMOS_SECRET_PREVIOUS set), which only FAMOS_SECRET_PREVIOUS may still open: some were issued
 * under FAMOS_SECRET (by an instance already restarted), which cannot be told apart from the HMAC.
 */
export interface PreviousSecretReport {
  /** Apps whose secret opens only under FAMOS_SECRET_PREVIOUS (before a reseal), or was sealed again (after). */
  apps: number;
  /** Apps whose secret opens under neither key: their holders sign in with another factor or are reset by support. */
  lost: number;
  /** Unused recovery codes issued before `since`, and how many users hold them (null: no change seen yet). */
  recoveryCodes: { since: number; codes: number; users: number } | null;
}

const CHANGE = "secret-change";
/** App rows read at a time: some 15 ms of AES-GCM at most between two turns of the event loop. */
const PAGE = 200;

/** How long FAMOS_SECRET_PREVIOUS is meant to stay after the change was first seen (SECURITY.md, known limit 22). */
export const PREVIOUS_SECRET_DAYS = 30;

/** When FAMOS_SECRET_PREVIOUS should be gone: PREVIOUS_SECRET_DAYS after the change was first seen (null: not seen yet). */
export function previousSecretDeadline(report: PreviousSecretReport): number | null {
  return report.recoveryCodes === null ? null : report.recoveryCodes.since + PREVIOUS_SECRET_DAYS * 86_400_000;
}

/** The key recovery codes are hashed under, told apart from others without giving anything of it (as loginDigestKeyFingerprint). */
function changeFingerprint(keys: Pick<Keys, "recoveryCode">): string {
  return hmacHex(keys.recoveryCode, "fingerprint of the key recovery codes are hashed under");
}

/**
 * When this FAMOS_SECRET was first run beside FAMOS_SECRET_PREVIOUS (kept in key_fingerprints as
 * `<fingerprint>@<ms>`, written once per new secret): codes issued before it are taken as the old key's.
 */
async function changeSeen(db: Kysely<Database>, keys: Pick<Keys, "recoveryCode">, now: number, record: boolean): Promise<number | null> {
  const fingerprint = changeFingerprint(keys);
  const kept = await db.selectFrom("key_fingerprints").select("fingerprint").where("purpose", "=", CHANGE).executeTakeFirst();
  const [keptFor, at] = (kept?.fingerprint ?? "").split("@");
  if (keptFor === fingerprint && at !== undefined) return Number(at);
  if (!record) return null;
  await keepFingerprint(db, CHANGE, `${fingerprint}@${now}`);
  return now;
}

/**
 * What FAMOS_SECRET_PREVIOUS still opens. With `reseal`, each app secret that opens only under it is
 * sealed again under FAMOS_SECRET (a conditional write: one a sign-in sealed meanwhile is left as it is).
 * With `record` (serve's start, reseal), the change is recorded as seen now if it was not yet.
 */
export async function previousSecretReport(
  db: Kysely<Database>,
  keys: Pick<Keys, "totpSecret" | "recoveryCode" | "previous">,
  random: Random,
  now: number,
  { reseal, record }: { reseal: boolean; record: boolean },
): Promise<PreviousSecretReport> {
  let apps = 0;
  let lost = 0;
  // A page at a time (by user id), so a server's look at start gives the event loop back between pages.
  for (let after = ""; ; ) {
    const rows = await db.selectFrom("authenticator_apps").select(["user_id", "secret"]).where("user_id", ">", after).orderBy("user_id").limit(PAGE).execute();
    for (const row of rows) {
      // Opened only: a look that counts (doctor, the start's) seals nothing; reseal seals what the old key opened.
      const opened = openUnderEither(keys, row.user_id, row.secret);
      if (opened === null) lost += 1;
      else if (!opened.previous) continue;
      else if (!reseal) apps += 1;
      else {
        const resealed = sealSecret(keys.totpSecret, random, row.user_id, opened.secret);
        const done = await db.updateTable("authenticator_apps").set({ secret: resealed }).where("user_id", "=", row.user_id).where("secret", "=", row.secret).executeTakeFirst();
        apps += Number(done.numUpdatedRows);
      }
    }
    if (rows.length < PAGE) break;
    after = rows.at(-1)!.user_id;
  }
  const since = keys.previous ? await changeSeen(db, keys, now, record) : null;
  if (since === null) return { apps, lost, recoveryCodes: null };
  const old = await db
    .selectFrom("recovery_codes")
    .select((eb) => [eb.fn.countAll<number | string>().as("codes"), eb.fn.count<number | string>("user_id").distinct().as("users")])
    .where("used_at", "is", null)
    .where("created_at", "<", since)
    .executeTakeFirstOrThrow();
  return { apps, lost, recoveryCodes: { since, codes: Number(old.codes), users: Number(old.users) } };
}

/** The rows of key_fingerprints for the key every app secret was last found sealed under, and the one a start is reading them under. */
const SEALED: KeyedRows = { kept: "app-secret", next: "app-secret-next", table: "authenticator_apps" };

/** The key app secrets are sealed under, told apart from others without giving anything of it. */
function sealedFingerprint(keys: Pick<Keys, "totpSecret">): string {
  return hmacHex(keys.totpSecret, "fingerprint of the key app secrets are sealed under");
}

/**
 * `famos serve`'s look at start: the report (read only; the change recorded as seen) when
 * FAMOS_SECRET_PREVIOUS is set or the app secrets were not last all found under FAMOS_SECRET's key (a
 * change, an app sealed since by an instance under another secret, or none found yet), else null after
 * one read. Once every one opens under FAMOS_SECRET, that key's fingerprint is kept by the rule the login
 * digests follow (src/store/key-fingerprints.ts): an instance under another secret that seals an app
 * forgets it (appSealed), so the next start reads them all again.
 */
export async function sealedSecretsToTell(db: Kysely<Database>, dialect: Dialect, keys: Pick<Keys, "totpSecret" | "recoveryCode" | "previous">, random: Random, now: number): Promise<PreviousSecretReport | null> {
  const fingerprint = sealedFingerprint(keys);
  if (!keys.previous && (await keyedRowsUnchanged(db, SEALED, fingerprint))) return null;
  await keyedPassBegins(db, dialect, SEALED, fingerprint);
  const report = await previousSecretReport(db, keys, random, now, { reseal: false, record: true });
  if (report.apps === 0 && report.lost === 0) await keyedPassDone(db, dialect, SEALED, fingerprint);
  return report;
}

/** An app secret was just sealed under `keys` (last in the writing transaction, src/store/key-fingerprints.ts): a start's fingerprint of another key is forgotten. */
export function appSealed(tx: Kysely<Database>, keys: Pick<Keys, "totpSecret">): Promise<void> {
  return forgetOtherKeys(tx, SEALED, sealedFingerprint(keys));
}

/** The words when FAMOS_SECRET_PREVIOUS is kept past its deadline (serve's start, doctor), or null before it. */
export function pastDeadlineText(report: PreviousSecretReport, now: number): string | null {
  const deadline = previousSecretDeadline(report);
  if (deadline === null || now <= deadline) return null;
  const left = report.recoveryCodes!.codes;
  return `FAMOS_SECRET_PREVIOUS is still set more than ${PREVIOUS_SECRET_DAYS} days after the change (${new Date(report.recoveryCodes!.since).toISOString()}): remove it (${left} unused recovery code${left === 1 ? "" : "s"} issued before then, under either secret: those under the old one then stop working)`;
}

/** "1 authenticator app's secret", "3 authenticator apps' secrets". */
export function appsText(n: number): string {
  return n === 1 ? "1 authenticator app's secret" : `${n} authenticator apps' secrets`;
}

/** The words for apps no key opens (doctor, reseal). */
export function lostText(n: number): string {
  return `${appsText(n)} ${n === 1 ? "opens" : "open"} under neither FAMOS_SECRET nor FAMOS_SECRET_PREVIOUS: set FAMOS_SECRET_PREVIOUS to the secret ${n === 1 ? "it was" : "they were"} made under and run famos reseal, or have support remove ${n === 1 ? "it" : "them"}`;
}
