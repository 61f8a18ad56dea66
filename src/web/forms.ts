import { z } from "zod";
import { HttpProblem } from "./errors.ts";

/** Fields longer than this are refused outright: no form of FAMOS needs more. */
export const MAX_FIELD = 1024;

export const field = (max = MAX_FIELD) => z.string().max(max);

/**
 * Reads a form body with a zod schema. A repeated field, an unknown field or an over-long value is
 * a 400 with a plain message, before any handler logic runs.
 */
export function parseForm<T extends z.ZodRawShape>(shape: T, body: unknown): z.infer<z.ZodObject<T>> {
  const schema = z.object({ ...shape, _csrf: z.string().max(200).optional() }).strict();
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === "unrecognized_keys") throw new HttpProblem(400, "The form contained fields FAMOS does not expect.");
    if (issue.code === "too_big") throw new HttpProblem(400, `The value of "${String(issue.path[0])}" is too long.`);
    throw new HttpProblem(400, `The field "${String(issue.path[0] ?? "form")}" is missing or not text.`);
  }
  return result.data as z.infer<z.ZodObject<T>>;
}
