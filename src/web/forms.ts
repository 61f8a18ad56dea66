import { z } from "zod";
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
 * A form's schema: the fields, plus the CSRF token; strict, so an unknown field is refused. Build
 * it once at module level: making a zod schema costs far more than using one.
 */
export function formSchema<T extends z.ZodRawShape>(shape: T) {
  return z.object({ ...shape, _csrf: z.string().max(200).optional() }).strict();
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
    if (issue.code === "too_big") throw new HttpProblem(400, `The value of "${String(issue.path[0])}" is too long.`);
    throw new HttpProblem(400, `The field "${String(issue.path[0] ?? "form")}" is missing or not text.`);
  }
  return result.data as z.infer<z.ZodObject<T>>;
}
