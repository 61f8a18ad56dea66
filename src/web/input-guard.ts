import type { FastifyInstance } from "fastify";
import { HttpProblem } from "./errors.ts";

const NUL = "\u0000";

/**
 * Refuses a NUL character anywhere in the address or in a form value, before any handler runs. No
 * field of FAMOS has a use for it, PostgreSQL cannot store it in text (the query would fail with a
 * 500), and C-based neighbours (mail servers, logs) may cut a string at it (ASVS 5.1.3, 5.1.4).
 */
export function registerInputGuard(app: FastifyInstance): void {
  // A callback hook, not an async one: no promise per request (issue 17).
  app.addHook("preValidation", (request, _reply, done) => {
    let address: string;
    try {
      address = decodeURIComponent(request.url);
    } catch {
      done(new HttpProblem(400, "The address of this request is not valid."));
      return;
    }
    if (address.includes(NUL) || containsNul(request.body)) {
      done(new HttpProblem(400, "The request contained a character FAMOS does not accept."));
      return;
    }
    done();
  });
}

function containsNul(body: unknown): boolean {
  if (typeof body === "string") return body.includes(NUL);
  if (Array.isArray(body)) return body.some(containsNul);
  // Parsed forms and JSON are objects of fields; a proxied body (a stream or buffer) is not looked into.
  const fields = body !== null && typeof body === "object" && !Buffer.isBuffer(body) && typeof (body as { pipe?: unknown }).pipe !== "function";
  if (fields) {
    return Object.entries(body as Record<string, unknown>).some(([key, value]) => key.includes(NUL) || containsNul(value));
  }
  return false;
}
