import { sql, type Kysely } from "kysely";
import type { Database } from "../../src/store/schema.ts";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { extractCode, type TestSmtpServer } from "./smtp.ts";

/** A code mail's subject in every shipped language: a reader's code mail is written in their language (issue 16). */
const CODE_SUBJECTS = new Set(Object.values(CATALOGUES).map((c) => c["mail.code.subject"]));

/** Whether a mail's subject is a code mail's, in any language (not "…passcode email was changed"). */
export const isCodeMail = (subject: string): boolean => CODE_SUBJECTS.has(subject);

/**
 * Where a test reads the codes FAMOS mailed: the in-process SMTP server (integration tests) or the
 * outbox table (the unit tier, which sends nothing). `mark()` before the request that mails, then
 * `code(to, mark)` after it.
 */
export interface Mailbox {
  mark(): Promise<number>;
  code(to: string, mark: number): Promise<string>;
}

export function smtpMailbox(smtp: TestSmtpServer): Mailbox {
  return {
    mark: async () => smtp.messages.length,
    async code(to, mark) {
      const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(to) && smtp.messages.indexOf(m) >= mark && isCodeMail(m.subject), 10_000);
      return extractCode(mail.text);
    },
  };
}

/**
 * The newest live (unused, not voided) code sent to `to`, read from its mail in the outbox. Newest by
 * SQLite's rowid: the fixed clock gives codes of one test the same time. (The unit tier is SQLite only.)
 */
export function outboxMailbox(db: Kysely<Database>): Mailbox {
  return {
    mark: async () => 0,
    async code(to) {
      const row = await db
        .selectFrom("codes")
        .innerJoin("outbox", "outbox.id", "codes.outbox_id")
        .select("outbox.text_body")
        .where("codes.email", "=", to)
        .where("codes.consumed_at", "is", null)
        .where("codes.voided_at", "is", null)
        .orderBy(sql`codes.rowid`, "desc")
        .executeTakeFirst();
      if (!row) throw new Error(`no live code for ${to} in the outbox`);
      return extractCode(row.text_body);
    },
  };
}

/** A user's live (unused, not voided) codes with their flow and the mail that carried each (its text is emptied once sent). */
export function liveCodeMails(db: Kysely<Database>, userId: string) {
  return db
    .selectFrom("codes")
    .innerJoin("outbox", "outbox.id", "codes.outbox_id")
    .select(["codes.flow_id", "outbox.text_body", "outbox.message_id"])
    .where("codes.user_id", "=", userId)
    .where("codes.consumed_at", "is", null)
    .where("codes.voided_at", "is", null)
    .execute();
}
