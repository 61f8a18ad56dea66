import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Deps } from "../../src/app/deps.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { signIn, type FormClient, type TestUser } from "../support/client.ts";

export type { TestUser };
export { snapshot } from "./snapshot.ts";

/** A client whose session waits at "User profile" (stage enrol). */
export async function atEnrolment(t: TestApp, ip = "127.0.0.1"): Promise<{ client: FormClient; user: TestUser }> {
  return signIn(t, { until: "enrol", ip });
}

/** A client whose session waits at "OTP capture" (stage otp), and the code that was mailed. */
export async function atCode(t: TestApp, user?: TestUser, ip = "127.0.0.1"): Promise<{ client: FormClient; user: TestUser; code: string }> {
  const { client, user: who, code } = await signIn(t, { until: "otp", ...(user ? { user } : {}), ip });
  return { client, user: who, code: code! };
}

/** A client that signed in with a temporary password and its code: at "Choose a new password" (issue 11). */
export async function atChoosePassword(t: TestApp, ip = "127.0.0.1"): Promise<{ client: FormClient; user: TestUser }> {
  const user = await addUser(t.deps);
  const temporary = "temporary-pass-0001";
  await setTemporaryPassword(t.deps, { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } }, user.id, temporary);
  const { client, code } = await atCode(t, { ...user, password: temporary }, ip);
  const response = await client.post("/otp", { code });
  if (response.headers.location !== "/choose-password") throw new Error(`expected /choose-password, got ${response.statusCode} ${response.headers.location}`);
  await client.get("/choose-password");
  return { client, user };
}

/** A fully signed-in client (role as given), on the Profile page so it holds a CSRF token. */
export async function signedIn(t: TestApp, role: "user" | "support" | "admin" = "user", ip = "127.0.0.1"): Promise<{ client: FormClient; user: TestUser }> {
  return signIn(t, { role, ip });
}

/** A 6-digit code that is not `code`. */
export function otherCode(code: string, offset = 1): string {
  return String((Number(code) + offset) % 1_000_000).padStart(6, "0");
}

/** The session cookie's name and value in a client (whatever its prefix). */
export function sessionToken(client: FormClient): string | undefined {
  for (const [name, value] of client.cookies) if (name.endsWith("famos_session")) return value;
  return undefined;
}

/** A GET with exactly this cookie header (a replayed or stolen cookie). */
export function getWithCookie(app: FastifyInstance, url: string, cookie: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: "GET", url, headers: { cookie } });
}

/** Concrete URL for a route pattern: parameters filled with a harmless value. */
export function concreteUrl(pattern: string): string {
  return pattern.replace(/:[A-Za-z]+/g, "x0").replace(/\*$/, "anything");
}

/** The live session rows of a user. */
export async function liveSessions(deps: Deps, userId: string) {
  return deps.db.selectFrom("sessions").selectAll().where("user_id", "=", userId).where("ended_at", "is", null).execute();
}

/** The forms of an HTML page that post to a route pattern (`:id` matches any id), each with its address and field names ("_csrf" left out). */
export function formsPostingTo(pageHtml: string, pattern: string): Array<{ action: string; fields: string[] }> {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, '[^"/?]+');
  const target = new RegExp(`(?:action|formaction)="(${escaped})"`);
  const found: Array<{ action: string; fields: string[] }> = [];
  for (const part of pageHtml.split(/<form\b/).slice(1)) {
    const form = part.split("</form>")[0]!;
    const match = target.exec(form);
    if (!match || /^[^>]*method="get"/i.test(form)) continue;
    const names = new Set<string>();
    for (const m of form.matchAll(/name="([^"]+)"/g)) if (m[1] !== "_csrf") names.add(m[1]!);
    found.push({ action: match[1]!.replace(/&amp;/g, "&"), fields: [...names] });
  }
  return found;
}
