import type { Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import type { SecondFactor } from "../factors/check-second-factor.ts";
import { enqueueMail } from "../mail/outbox.ts";
import { hmacHex } from "../platform/keys.ts";
import { randomId } from "../platform/random.ts";
import type { Database } from "../store/schema.ts";
import { takeTurnsOn } from "../store/take-turns.ts";
import type { User } from "../users/users.ts";
import { recoveryCodeUsedMail } from "./messages.ts";
import { userTranslator } from "../i18n/translator.ts";

export const RECOVERY_CODE_COUNT = 10;
/** No 0/o, 1/l/i: a code copied from paper is typed as written. 31 symbols, 10 of them: 49 bits each. */
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH = 10;

/**
 * Recovery codes are NIST SP 800-63B look-up secrets (5.1.2): random, single-use, stored only as a
 * keyed hash (HMAC-SHA256 under keys.recoveryCode, bound to the user), so the table alone yields none.
 * 49 bits each is far above the 20 bits 5.1.2.1 asks for, with guesses counted toward the code lock.
 */
function recoveryHash(key: Buffer, userId: string, code: string): string {
  return hmacHex(key, `${userId}:${code}`);
}

/** A typed code without spaces, dashes and case, or null when it cannot be one. */
export function normaliseRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, "");
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

function newCode(deps: Pick<Deps, "random">): string {
  let code = "";
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[deps.random.int(ALPHABET.length)];
  return code;
}

/** "abcde-fghij": how a code is shown. */
export function formatRecoveryCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * A new set of ten codes for the user, in the caller's transaction: the old set (used or not) is
 * deleted, so it stops working with the commit. Returns the codes in plain text, which exist only in
 * this answer (the page shows them once).
 */
export async function issueRecoveryCodes(tx: Kysely<Database>, deps: Pick<Deps, "random" | "keys" | "clock" | "dialect">, userId: string): Promise<{ codes: string[] }> {
  const now = deps.clock.now();
  // Two sets issued at once (two tabs, two instances) would otherwise leave twenty working codes.
  await takeTurnsOn(tx, deps.dialect, { table: "users", id: userId });
  await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newCode(deps));
  await tx
    .insertInto("recovery_codes")
    .values(codes.map((code) => ({ id: randomId(deps.random), user_id: userId, code_hash: recoveryHash(deps.keys.recoveryCode, userId, code), created_at: now, used_at: null })))
    .execute();
  return { codes };
}

type RecoveryFailure = { kind: "wrong" };

/**
 * A recovery code as a second factor (checkSecondFactor): a wrong one counts toward the code lock;
 * using one marks it used with a conditional write (two requests with one code: one wins), and mails
 * the user how many remain, in the same transaction.
 */
export function recoveryCodeFactor(deps: Deps, user: User, code: string): SecondFactor<RecoveryFailure> {
  let id: string | null = null;
  const hash = recoveryHash(deps.keys.recoveryCode, user.id, code);
  // After a change of FAMOS_SECRET, a code issued before it is found by its hash under FAMOS_SECRET_PREVIOUS's key, and kept under the new one once used.
  const old = deps.keys.previous ? recoveryHash(deps.keys.previous.recoveryCode, user.id, code) : null;
  let rehash = false;
  return {
    async verify() {
      const rows = await deps.db
        .selectFrom("recovery_codes")
        .select(["id", "used_at", "code_hash"])
        .where("user_id", "=", user.id)
        .where("code_hash", old === null ? "=" : "in", old === null ? hash : [hash, old])
        .execute();
      const row = rows.find((r) => r.code_hash === hash) ?? rows[0];
      if (!row) return { kind: "wrong" };
      if (row.used_at !== null) return { kind: "used" };
      id = row.id;
      rehash = row.code_hash !== hash;
      return { kind: "ok" };
    },
    async consume(tx, now) {
      const used = await tx.updateTable("recovery_codes").set({ used_at: now, ...(rehash ? { code_hash: hash } : {}) }).where("id", "=", id!).where("used_at", "is", null).executeTakeFirst();
      if (Number(used.numUpdatedRows) === 0) return "used";
      if (rehash) deps.metrics.previousSecretReads.inc({ what: "recovery-code" });
      const left = await recoveryCodesLeft(tx, user.id);
      if (user.otp_email) {
        const mail = recoveryCodeUsedMail({ loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail, left });
        await enqueueMail(tx, now, deps.random, deps.mailDomain, { userId: user.id, kind: "notice.recovery-code-used", recipient: user.otp_email, ...mail });
      }
      return "consumed";
    },
    failed: () => ({ event: "recovery-code.failed", detail: {} }),
    confirmed: { event: "recovery-code.used", detail: {} },
    reused: { event: "recovery-code.reused", detail: {} },
    tellReuse: "recovery",
    metrics: { failed: () => deps.metrics.strongFactorChecks.inc({ factor: "recovery-code", outcome: "failed" }), confirmed: () => deps.metrics.strongFactorChecks.inc({ factor: "recovery-code", outcome: "ok" }) },
  };
}

export async function recoveryCodesLeft(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db.selectFrom("recovery_codes").select((eb) => eb.fn.countAll<number | string>().as("n")).where("user_id", "=", userId).where("used_at", "is", null).executeTakeFirst();
  return Number(row?.n ?? 0);
}
