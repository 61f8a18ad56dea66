import { sql, type Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { endAccessForNewPassword, endUserAccess, forgetOtherDevices } from "../account/access.ts";
import { userTranslator } from "../i18n/translator.ts";
import { importedPasswordMail } from "../account/messages.ts";
import { recordAudit, recordAuditMany, type Actor, type AuditEntry } from "../audit/audit.ts";
import { forgetMovedAnnouncement } from "../rollout/announce.ts";
import { endPasswordOnlyForMove } from "../rollout/password-only.ts";
import { holdWaves } from "../rollout/plan.ts";
import { KEYS_PER_IN_LIST, slicesOf } from "../store/in-lists.ts";
import type { Database } from "../store/schema.ts";
import { newLoginIdProblem } from "../users/fields.ts";
import { forgetDigestsUnderAnotherKey } from "../users/login-digest.ts";
import { findUserTakingTurns, loginKey, ordinaryPassword, userRow, type Role, type User } from "../users/users.ts";
import { administratorsTakingTurns } from "./acting.ts";
import { importedHashDigest, importedPasswordChange } from "./imported-password.ts";
import { enableMover, enablesAgain, type EnabledMover, type Mover } from "./import-movers.ts";
import { lastAdminRefusal, lastAdminRowReason } from "./roles.ts";

/** One checked row of an import file: every field already valid. */
export interface ImportedUser {
  /** Where the row starts in the file, for the report. */
  line: number;
  loginId: string;
  fullName: string;
  partnerNumber: string;
  role: Role;
  /** A given address is taken as confirmed; null means enrolment at first sign-in. */
  email: string | null;
  /** argon2id, bcrypt or Django PBKDF2, stored as it is and upgraded at the next sign-in. */
  passwordHash: string;
}

export interface RefusedRow {
  line: number;
  reason: string;
}

export interface ImportOptions {
  /** Change existing users instead of refusing their rows. */
  update: boolean;
  /** Skip rows whose login ID exists (taken by an earlier, interrupted run) instead of refusing them. */
  resume?: boolean;
  /** The email column is a contact address for the 2FA announcement, not a confirmed OTP email. */
  emailAsContact?: boolean;
  /** --sync: a file is the whole staff list, so a row for an existing user is kept as it is, not refused. */
  keepExisting?: boolean;
  actor: Actor;
  onProgress?(done: number): void;
  /** Asked after each committed batch: true stops there (Ctrl-C on the command line). */
  shouldStop?(): boolean;
}

/**
 * Rows per transaction: large enough to be fast, small enough not to hold the writer long. No caller
 * chooses another: `--sync --dry-run` counts role changes in the real run's batches (importBatches).
 */
export const IMPORT_BATCH_ROWS = 500;

/** How many accounts whose file hash was recorded, not applied, the report keeps to name (a first night may have thousands). */
export const NOT_APPLIED_NAMED = 50;

/**
 * The import's one walk of its rows: IMPORT_BATCH_ROWS per transaction, in file order, each batch
 * with how many rows are done after it. The real run writes each batch (storeImportedUsers); `--sync --dry-run`
 * reads the same batches to count the role changes they make (users/sync.ts, importedAdminChanges).
 * Which rows share a batch decides the last-administrator count (a batch adds its new administrators
 * before it changes roles), so the two must never cut the file in different places.
 */
export function* importBatches<T>(rows: readonly T[]): Generator<{ batch: readonly T[]; done: number }> {
  let done = 0;
  for (const batch of slicesOf(rows, IMPORT_BATCH_ROWS)) {
    done += batch.length;
    yield { batch, done };
  }
}

/**
 * What the import does with a row, given the account its login ID names (undefined: none, so the row
 * adds one): the one decision of storeBatch and of `--sync --dry-run` (importedAdminChanges). An
 * existing account is changed with --update, kept as it is with --sync (keepExisting), else refused.
 */
export function importRowAction(user: User | undefined, options: Pick<ImportOptions, "update" | "keepExisting">): "add" | "update" | "keep" | "refuse" {
  if (user === undefined) return "add";
  if (options.update) return "update";
  return options.keepExisting ? "keep" : "refuse";
}

export interface StoreReport {
  added: number;
  updated: number;
  unchanged: number;
  /** --resume: rows whose login ID was already there. */
  skipped: number;
  refused: RefusedRow[];
  /** Accounts an earlier `--sync` disabled that a row moved to another partner enabled again (enablesAgain). */
  enabled: EnabledMover[];
  /** --update rows whose file hash was recorded, not applied (importedPasswordChange's notApplied), each audited. */
  recordedNotApplied: number;
  /** The first NOT_APPLIED_NAMED of those accounts, in file order, for the import to name (the audit names them all). */
  notAppliedNamed: User[];
  /** Stopped (shouldStop) after this many of the rows, all committed; null when it went through them all. */
  stoppedAfter: number | null;
}

/**
 * Writes checked rows in batched transactions (no hashing happens here: the hashes are taken as
 * they are). Each added or changed user gets its own audit event, so `famos audit --user <id>` shows
 * where an account came from like any other event about it.
 */
export async function storeImportedUsers(deps: Deps, rows: readonly ImportedUser[], options: ImportOptions): Promise<StoreReport> {
  const report: StoreReport = { added: 0, updated: 0, unchanged: 0, skipped: 0, refused: [], enabled: [], recordedNotApplied: 0, notAppliedNamed: [], stoppedAfter: null };
  for (const { batch, done } of importBatches(rows)) {
    const now = deps.clock.now();
    const updatedBefore = report.updated;
    const movers: Mover[] = [];
    await deps.db.transaction().execute((tx) => storeBatch(deps, tx, batch, now, options, report, movers));
    for (const mover of movers) await enableMover(deps, mover, options, report);
    // Updated rows may have queued a new password's notice (endAccessForNewPassword): the sender goes now.
    if (report.updated > updatedBefore) deps.mailQueued();
    options.onProgress?.(done);
    if (done < rows.length && options.shouldStop !== undefined) {
      // A signal is an event: on SQLite, whose statements complete at once, the batches would otherwise
      // never leave the microtask queue for it to be seen.
      await new Promise((resolve) => setImmediate(resolve));
      if (options.shouldStop()) return { ...report, stoppedAfter: done };
    }
  }
  return report;
}

/**
 * The rows whose login ID the rules for new login IDs refuse (newLoginIdProblem, users/fields.ts: an
 * invisible character, a look-alike) and no account has, with the reason: such a row would make an
 * account, and is refused, never made. A row naming an account made before a rule is that account's
 * and goes on (--update changes it, --sync keeps it). Only such rows cost a read. The one home of this
 * refusal: the import (refuseNewcomers) and `--sync --dry-run`, which must name every row the real run
 * refuses (src/cli/import-sync.ts).
 */
export async function refusedNewcomers(db: Kysely<Database>, rows: readonly ImportedUser[]): Promise<RefusedRow[]> {
  const doubtful: { row: ImportedUser; reason: string }[] = [];
  for (const row of rows) {
    const reason = newLoginIdProblem(row.loginId);
    if (reason !== null) doubtful.push({ row, reason });
  }
  const found = new Set<string>();
  // Bounded IN lists: a dry run asks of a whole file at once.
  for (const slice of slicesOf(doubtful, KEYS_PER_IN_LIST)) {
    const keys = slice.map(({ row }) => loginKey(row.loginId));
    for (const r of await db.selectFrom("users").select("login_key").where("login_key", "in", keys).execute()) found.add(r.login_key);
  }
  return doubtful.filter(({ row }) => !found.has(loginKey(row.loginId))).map(({ row, reason }) => ({ line: row.line, reason }));
}

/** The batch without its refused newcomers (refusedNewcomers), each refused in the report. */
async function refuseNewcomers(tx: Kysely<Database>, rows: readonly ImportedUser[], report: StoreReport): Promise<readonly ImportedUser[]> {
  const refused = await refusedNewcomers(tx, rows);
  if (refused.length === 0) return rows;
  report.refused.push(...refused);
  const lines = new Set(refused.map((r) => r.line));
  return rows.filter((row) => !lines.has(row.line));
}

/**
 * Inserts first, skipping login IDs that exist (one conditional statement, so a user added by
 * someone else meanwhile is simply an existing one), then looks up the rows that were skipped.
 * Writing first also lets SQLite wait for a busy server rather than fail a read-then-write snapshot.
 */
async function storeBatch(
  deps: Deps,
  tx: Kysely<Database>,
  rows: readonly ImportedUser[],
  now: number,
  options: ImportOptions,
  report: StoreReport,
  movers: Mover[],
): Promise<void> {
  const batch = await refuseNewcomers(tx, rows, report);
  if (batch.length === 0) return;
  const inserted = await tx
    .insertInto("users")
    // The hash an import gives is remembered by its digest (imported-password.ts), for the next run's rows.
    .values(batch.map((row) => ({ ...userRow(deps.keys, deps.random, now, { ...row, otpEmail: options.emailAsContact ? null : row.email }), imported_hash_digest: importedHashDigest(row.passwordHash) })))
    .onConflict((oc) => oc.column("login_key").doNothing())
    .returning(["login_key", "id"])
    .execute();
  await forgetDigestsUnderAnotherKey(tx, deps.keys, inserted);
  const added = new Set(inserted.map((r) => r.login_key));
  const skipped = batch.filter((row) => !added.has(loginKey(row.loginId)));
  if (options.emailAsContact) await storeContactEmails(tx, batch, inserted);
  if (options.resume) {
    report.skipped += skipped.length;
    report.added += added.size;
    await recordAuditMany(tx, now, batch.filter((row) => added.has(loginKey(row.loginId))).map((row) => addedEntry(row, options)));
    return;
  }
  const batchEvents: AuditEntry[] = [];
  const existing = new Map<string, User>();
  if (skipped.length > 0) {
    const users = await tx.selectFrom("users").selectAll().where("login_key", "in", skipped.map((r) => loginKey(r.loginId))).execute();
    for (const user of users) existing.set(user.login_key, user);
  }
  // Users moved to another partner: their password-only sessions are cut to the new wave's start
  // (updateUser). The waves held first, for the whole batch, before any of its session writes: the lock
  // order of a wave change (waves, then sessions), which then waits for this batch or it for the change.
  const moves = batch.flatMap((row) => {
    const user = existing.get(loginKey(row.loginId));
    return options.update && user && row.partnerNumber.trim() !== user.partner_number ? [user.partner_number, row.partnerNumber.trim()] : [];
  });
  // A row demoting an administrator: every enabled administrator's row taken first, in the one order
  // of changeRole, disables and erasures (administratorsTakingTurns), before the rows below, so that this
  // batch and another such writer count the administrators one after the other (lastAdminRefusal).
  // A row enabling a mover again takes none here: the enable runs after the batch (enableMover).
  let adminsTaken = options.update && batch.some((row) => demotesAdmin(row, existing.get(loginKey(row.loginId))));
  if (adminsTaken) await administratorsTakingTurns(tx, deps.dialect);
  if (moves.length > 0) await holdWaves(tx, deps.dialect, [...new Set(moves)], "share");
  for (const row of batch) {
    if (added.has(loginKey(row.loginId))) {
      report.added += 1;
      batchEvents.push(addedEntry(row, options));
      continue;
    }
    const user = existing.get(loginKey(row.loginId));
    if (!user) {
      // Only possible if the account vanished between the two statements: say so, do not guess.
      report.refused.push(vanished(row));
      continue;
    }
    const action = importRowAction(user, options);
    if (action === "keep") {
      report.unchanged += 1;
      continue;
    }
    if (action === "refuse") {
      report.refused.push({ line: row.line, reason: `a user with login ID "${user.login_id}" already exists (use --update to change existing users)` });
      continue;
    }
    // The account as it is now, its row taken first, as changeRole reads it (users.ts): the batch's read
    // above takes no row on PostgreSQL, and a change committed since is what the update compares
    // with, and what role.changed's "from" names.
    const current = await findUserTakingTurns(tx, deps.dialect, user.id);
    if (!current) {
      report.refused.push(vanished(row));
      continue;
    }
    // One made an administrator since the batch's read: taken now (out of the one order, so at worst a
    // deadlock PostgreSQL ends by rolling back one transaction; never an uncounted demotion).
    if (!adminsTaken && demotesAdmin(row, current)) {
      await administratorsTakingTurns(tx, deps.dialect);
      adminsTaken = true;
    }
    // An enabled administrator always stays (roles.ts): a row demoting the last one is refused whole.
    if (row.role !== current.role && (await lastAdminRefusal(tx, current))) {
      report.refused.push({ line: row.line, reason: lastAdminRowReason(current.login_id) });
      continue;
    }
    if (options.emailAsContact && row.email !== null) await storeContactEmails(tx, [row], [{ login_key: current.login_key, id: current.id }]);
    const outcome = await updateUser(deps, tx, current, options.emailAsContact ? { ...row, email: null } : row, now, options.actor);
    report[outcome.updated ? "updated" : "unchanged"] += 1;
    if (outcome.recordedNotApplied) {
      // A file hash kept out (the first night after migration 029) may be a new password IT meant: an event
      // about the account, as each of the import's (its subject: `famos audit --user` and erasure find it),
      // written with the batch's others in one statement.
      report.recordedNotApplied += 1;
      // Named as the row left it (a move and a new name in the same row applied), as the next listing would name it.
      if (report.notAppliedNamed.length < NOT_APPLIED_NAMED) report.notAppliedNamed.push(outcome.after);
      batchEvents.push({ ...options.actor, event: "password.import-not-applied", subject: current.login_id, detail: { source: "import", line: row.line } });
    }
    if (enablesAgain(current, row, options)) movers.push({ id: current.id, from: current.partner_number, row });
  }
  await recordAuditMany(tx, now, batchEvents);
}

function demotesAdmin(row: ImportedUser, user: User | undefined): boolean {
  return user !== undefined && user.role === "admin" && row.role !== "admin";
}

/** A row whose account was not there when it was looked for (deleted meanwhile): said, not guessed. */
function vanished(row: ImportedUser): RefusedRow {
  return { line: row.line, reason: `login ID "${row.loginId}" could be neither added nor found; run the import again` };
}

/** `emailGiven`: the account has a confirmed OTP email (the rollout's enrolments per day count it); a contact address is not one. */
function addedEntry(row: ImportedUser, options: Pick<ImportOptions, "actor" | "emailAsContact">): AuditEntry {
  const contact = options.emailAsContact === true && row.email !== null;
  const detail = { source: "import", line: row.line, role: row.role, emailGiven: row.email !== null && !contact, ...(contact ? { contactGiven: true } : {}) };
  return { ...options.actor, event: "user.created", subject: row.loginId, detail };
}

/**
 * --email-as-contact: the rows' addresses go to the rollout's announcement list (issue 12). A user
 * already announced at another address (a contact address or, without one, the address they typed
 * and never confirmed: a typo corrected, a bounce) is announced again at the new one by the next
 * `famos rollout announce`; the same address again, in any case, is not.
 */
async function storeContactEmails(tx: Kysely<Database>, rows: readonly ImportedUser[], users: readonly { login_key: string; id: string }[]): Promise<void> {
  const ids = new Map(users.map((u) => [u.login_key, u.id]));
  const values = rows.flatMap((row) => {
    const id = ids.get(loginKey(row.loginId));
    return id && row.email !== null ? [{ user_id: id, contact_email: row.email, grace_used: 0, announced_at: null }] : [];
  });
  if (values.length === 0) return;
  await tx
    .insertInto("rollout_users")
    .values(values)
    .onConflict((oc) =>
      oc.column("user_id").doUpdateSet((eb) => ({
        contact_email: eb.ref("excluded.contact_email"),
        // The announcement went to the contact address, else to the address the user typed and never
        // confirmed (announce.ts): a mark for another address, or for one no longer known, goes.
        announced_at: sql<number | null>`CASE WHEN lower(coalesce(rollout_users.contact_email, (SELECT pending_email FROM users WHERE users.id = rollout_users.user_id), '')) <> lower(excluded.contact_email) THEN NULL ELSE rollout_users.announced_at END`,
      })),
    )
    .execute();
}

/**
 * --update: name, partner number, role, OTP email and password hash take the file's values (the hash
 * when it is not the one the last import gave: importedPasswordChange), compared with `user` as read in this transaction, its row taken (findUserTakingTurns). An
 * empty email keeps the current one: undoing an enrolment is a support reset, with its own checks
 * and notice, not a side effect of a blank cell. A new password hash or OTP email ends the user's
 * sessions and voids their codes, as any password or email change does (SPEC "Sessions"); a new
 * password hash or OTP email forgets the login ID's device cookies too. A new password hash is an
 * ordinary password (ordinaryPassword): a temporary password it replaces, pending or spent, leaves no
 * temporary state behind. `after`: the account as the row left it.
 */
async function updateUser(deps: Deps, tx: Kysely<Database>, user: User, row: ImportedUser, now: number, actor: Actor): Promise<{ updated: boolean; recordedNotApplied: boolean; after: User }> {
  const email = row.email ?? user.otp_email;
  const changes: Partial<User> = {};
  if (row.fullName.trim() !== user.full_name) changes.full_name = row.fullName.trim();
  if (row.partnerNumber.trim() !== user.partner_number) changes.partner_number = row.partnerNumber.trim();
  if (row.role !== user.role) changes.role = row.role;
  // A new password only when the file's hash is not the one the last import gave (importedPasswordChange):
  // an ordinary password, in the same statement, so a temporary one it replaces takes its state along.
  const password = importedPasswordChange(user, row.passwordHash);
  if (password.apply) Object.assign(changes, ordinaryPassword(row.passwordHash));
  if (email !== user.otp_email) Object.assign(changes, { otp_email: email, otp_email_confirmed_at: now, pending_email: null });
  const changed = Object.keys(changes).filter((k) => k !== "otp_email_confirmed_at" && k !== "pending_email" && k !== "password_temporary_until");
  // The record alone changes nothing the account does: the row stays "unchanged", with no user.updated
  // (storeBatch audits a record not applied).
  if (password.record !== null) changes.imported_hash_digest = password.record;
  if (changed.length === 0) {
    if (password.record !== null) await tx.updateTable("users").set({ imported_hash_digest: password.record }).where("id", "=", user.id).execute();
    return { updated: false, recordedNotApplied: password.notApplied, after: user };
  }

  await tx.updateTable("users").set({ ...changes, updated_at: now }).where("id", "=", user.id).execute();
  // Under the waves held for the batch (storeBatch): the before-wave sessions end by the new partner's start.
  // How many it cut short, in the move's audit line (0 included), as a wave change's rollout.planned says.
  const moved: Record<string, number> = changes.partner_number === undefined ? {} : { passwordOnlyEnded: await endPasswordOnlyForMove(tx, user.id, user.partner_number, changes.partner_number, now) };
  // And an announcement of the old partner's start is forgotten when the new one's differs (the next run tells it).
  if (changes.partner_number !== undefined) await forgetMovedAnnouncement(deps, tx, user.id, user.partner_number, changes.partner_number);
  if (changes.password_hash !== undefined) {
    // Cut off as every password change is (the one home): sessions, codes, their flows, a Profile
    // email change waiting for its code with its address, and every browser's device cookie.
    // And told, as every new password is: to the address the account had (an address in the same row is new).
    const told = { kind: "notice.password-changed", recipient: user.otp_email, mail: () => importedPasswordMail({ loginId: user.login_id, at: now, t: userTranslator(deps.config, user), supportEmail: deps.config.supportEmail }) } as const;
    await endAccessForNewPassword(deps, tx, user, now, "import", told);
  } else if (changes.otp_email !== undefined) {
    // As every email change is: sessions, codes, their flows, and every browser's device cookie.
    await endUserAccess(tx, user.id, now, "import");
    await forgetOtherDevices(deps, tx, user, now);
  }
  // `emailGiven`: the account's first confirmed OTP email, an enrolment (rollout/progress.ts counts it, as user.created's).
  const enrolled: Record<string, boolean> = user.otp_email === null && changes.otp_email !== undefined ? { emailGiven: true } : {};
  await recordAudit(tx, now, { ...actor, event: "user.updated", subject: user.login_id, detail: { source: "import", line: row.line, changed: changed.join(","), ...enrolled, ...moved } });
  if (changes.role !== undefined) {
    await recordAudit(tx, now, { ...actor, event: "role.changed", subject: user.login_id, detail: { from: user.role, to: row.role, source: "import" } });
  }
  return { updated: true, recordedNotApplied: password.notApplied, after: { ...user, ...changes, updated_at: now } };
}
