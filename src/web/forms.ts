import { z } from "zod";
import { formatMessage } from "../i18n/translator.ts";
import type { MessageKey, Translator } from "../i18n/translator.ts";
import { HttpProblem } from "./errors.ts";

/** Fields longer than this are refused outright: no form of FAMOS needs more. */
export const MAX_FIELD = 1024;

export const field = (max = MAX_FIELD) => z.string().max(max);

/**
 * A support ticket reference: no cap here but the body's (16 KiB, `@fastify/formbody`), since the
 * ticket's own rule (src/support/ticket.ts, 1 to 64 characters) refuses a longer one with its own
 * reason on the form's page, as it refuses 65 characters; a cap of this parser's would answer its
 * generic "too long" instead for a ticket posted past it.
 */
export const ticketField = () => z.string();

/**
 * The label each field a reader types has on its screen (SPEC's words: "Login ID", "Current password",
 * "Ticket reference"), by the field's name: a refusal names the field so, never by FAMOS's own name for
 * it. A form whose field is labelled otherwise gives its own (formSchema's `labels`); a field with no
 * label (a hidden one the reader never typed) is not named.
 */
const FIELD_LABELS: Readonly<Record<string, MessageKey>> = {
  loginId: "field.loginId",
  password: "field.password",
  stepUpPassword: "field.password",
  email: "field.email",
  confirmEmail: "field.confirmEmail",
  ownMailbox: "field.ownMailbox",
  code: "code.label",
  newEmail: "field.newEmail",
  confirmNewEmail: "field.confirmNewEmail",
  currentPassword: "field.currentPassword",
  newPassword: "field.newPassword",
  confirmNewPassword: "field.confirmNewPassword",
  locale: "field.language",
  timeZone: "field.timeZone",
  name: "facts.name",
  fullName: "facts.name",
  partner: "facts.partner",
  partnerNumber: "facts.partner",
  ticket: "console.ticket",
  title: "console.notice.title",
  body: "console.notice.text",
};

/** Each schema's own labels (formSchema), over FIELD_LABELS. */
const formLabels = new WeakMap<z.ZodTypeAny, Readonly<Record<string, MessageKey>>>();

/**
 * A form's schema: the fields, plus the CSRF token; strict, so an unknown field is refused. Build
 * it once at module level: making a zod schema costs far more than using one. `labels`: fields whose
 * label on this form is not FIELD_LABELS' (the authenticator app's code).
 */
export function formSchema<T extends z.ZodRawShape>(shape: T, labels?: Partial<Record<keyof T, MessageKey>>) {
  const schema = z.object({ ...shape, _csrf: z.string().max(200).optional() }).strict();
  if (labels) formLabels.set(schema, labels as Record<string, MessageKey>);
  return schema;
}

/**
 * A field refused before any handler ran (missing, not text, too long), told by its label in the
 * reader's language: `named` with the label, `unnamed` for a field with none. `schema`: the form's,
 * for its own labels.
 */
export function fieldProblem(name: string, problem: "missing" | "too-long", schema?: z.ZodTypeAny): HttpProblem {
  const [named, unnamed]: [MessageKey, MessageKey] = problem === "missing" ? ["form.fieldMissing", "form.someFieldMissing"] : ["form.valueTooLong", "form.someValueTooLong"];
  const own = schema ? formLabels.get(schema) : undefined;
  const label = (own && Object.hasOwn(own, name) ? own[name] : undefined) ?? (Object.hasOwn(FIELD_LABELS, name) ? FIELD_LABELS[name] : undefined);
  const words = (t: Pick<Translator, "text">) => (label ? t.text(named, { field: t.text(label) }) : t.text(unnamed));
  return new HttpProblem(400, words({ text: (key, values) => formatMessage("en-GB", key, values) }), undefined, words);
}

/**
 * Reads a form body with a zod schema (or a shape, built on each call). A repeated field, an
 * unknown field or an over-long value is a 400 with a plain message, before any handler logic runs.
 */
export function parseForm<T extends z.ZodRawShape>(schema: T | z.ZodObject<T>, body: unknown): z.infer<z.ZodObject<T>> {
  const compiled = schema instanceof z.ZodObject ? schema : formSchema(schema as T);
  const result = compiled.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === "unrecognized_keys") throw new HttpProblem(400, "The form contained fields FAMOS does not expect.");
    const name = String(issue.path[0] ?? "");
    throw fieldProblem(name, issue.code === "too_big" ? "too-long" : "missing", compiled);
  }
  return result.data as z.infer<z.ZodObject<T>>;
}
