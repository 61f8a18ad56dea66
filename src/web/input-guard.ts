import type { FastifyInstance } from "fastify";
import { HttpProblem } from "./errors.ts";
import { isRefusedTarget } from "./request-target.ts";

const NUL = "\u0000";

/**
 * Refuses a NUL character anywhere in the address or in a form value, before any handler runs. No
 * field of FAMOS has a use for it, PostgreSQL cannot store it in text (the query would fail with a
 * 500), and C-based neighbours (mail servers, logs) may cut a string at it (ASVS 5.1.3, 5.1.4).
 */
export function registerInputGuard(app: FastifyInstance): void {
  // RFC 9112 §3.2: an HTTP/1.1 request without a Host header, or one with two, is a 400. Node's own
  // check (requireHostHeader, turned off in app.ts) answered a missing one with a bare 400 and no
  // word; two went through with the first. Refused here, before the session is read, with the page
  // every unreadable request gets. So is one whose target, in absolute-form, names another host than
  // its Host header (originFormTarget, request-target.ts): it too says two hosts; and one whose target
  // is `*` with a method other than OPTIONS (RFC 9112 3.2.4), which the router took for the root.
  app.addHook("onRequest", (request, _reply, done) => {
    const hosts = hostHeaders(request.raw.rawHeaders);
    if (hosts > 1 || (hosts === 0 && request.raw.httpVersion !== "1.0") || isRefusedTarget(request.raw)) {
      done(new HttpProblem(400, "FAMOS could not read that request."));
      return;
    }
    done();
  });
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

/** How many Host headers the request came with (Node keeps only the first in `headers`). */
function hostHeaders(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") count += 1;
  return count;
}

/**
 * Walks the parsed body with a list of its own rather than by recursion: JSON (the bounce webhook's)
 * may nest a hundred thousand deep within the body limit, which would overflow the call stack.
 */
function containsNul(body: unknown): boolean {
  // Most requests (every GET) have no body: no list for them (issue 17).
  if (body === undefined || body === null) return false;
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === "string") {
      if (value.includes(NUL)) return true;
    } else if (Array.isArray(value)) {
      // One at a time: spreading a list of 100,000 items into push() overflows the stack as well.
      for (const item of value) pending.push(item);
    } else if (isFields(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes(NUL)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** Parsed forms and JSON are objects of fields; a proxied body (a stream or buffer) is not looked into. */
function isFields(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Buffer.isBuffer(value) && typeof (value as { pipe?: unknown }).pipe !== "function";
}
