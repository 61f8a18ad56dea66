import { setTemporaryPassword } from "../../src/account/temporary-password.ts";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { PostgresAdapter, sql, type Kysely } from "kysely";
import type { Deps } from "../../src/app/deps.ts";
import { counterKey } from "../../src/regulation/counter-key.ts";
import type { Database } from "../../src/store/schema.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { signIn, type FormClient, type TestUser } from "../support/client.ts";

export type { TestUser };

const TABLES = ["users", "flows", "codes", "sessions", "throttles", "outbox", "audit", "notices"] as const;

/**
 * Every table FAMOS keeps (or those of `tables`), each as its rows in a stable order, one JSON object
 * (keys sorted) a line: "nothing stored" is equality of two of these, and a failed comparison's diff
 * names the rows added or removed (a changed row is one of each). The database writes the text in one
 * statement a table (no row crosses to JavaScript as an object), so taking it stays cheap when the
 * audit trail has grown to thousands of rows; snapshot.test.ts shows it sees every kind of change.
 */
export async function snapshot(db: Kysely<Database>, tables: readonly (typeof TABLES)[number][] = TABLES): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of tables) {
    // The mail sender updates delivery columns in the background; what was queued is what counts.
    const columns = table === "outbox" ? ["id", "kind", "recipient", "subject"] : await columnsOf(db, table);
    const postgres = isPostgres(db);
    const pairs = sql.join(columns.map((c) => sql`${sql.lit(c)}, ${sql.ref(c)}`));
    const row = postgres ? sql<string>`json_build_object(${pairs})::text` : sql<string>`json_object(${pairs})`;
    let query = db.selectFrom(table).select([row.as("r"), sql.ref(PRIMARY_KEY[table]).as("k")]);
    // A support person's count of console changes (regulation/console-actions.ts): a refused change
    // gives its count back, but the counter's row (its window) stays: regulation, not input stored.
    if (table === "throttles") query = query.where(sql<boolean>`substr(${sql.ref("key")}, 1, ${CONSOLE_COUNTER.length}) <> ${CONSOLE_COUNTER}`);
    // The audit trail's CSV download records who took it (audit.exported): a safe method may log its
    // request (RFC 9110 §9.2.1); the trail it reads, and everything else, stays as it was.
    if (table === "audit") query = query.where(sql<boolean>`${sql.ref("event")} <> 'audit.exported'`);
    const rows = query.as("rows");
    // In the order of the primary key, which is in each row's text: the same rows give the same text.
    const all = postgres ? sql<string>`string_agg(${sql.ref("rows.r")}, E'\\n' ORDER BY ${sql.ref("rows.k")})` : sql<string>`group_concat(${sql.ref("rows.r")}, char(10) ORDER BY ${sql.ref("rows.k")})`;
    const { text } = await db.selectFrom(rows).select(all.as("text")).executeTakeFirstOrThrow();
    out[table] = text ?? "";
  }
  return out;
}

const CONSOLE_COUNTER = counterKey.consoleActor("");
const PRIMARY_KEY: Record<(typeof TABLES)[number], string> = { users: "id", flows: "id", codes: "id", sessions: "token_hash", throttles: "key", outbox: "id", audit: "id", notices: "id" };

/** The columns of a table, sorted (the keys of snapshot's rows), read once a database. */
const columnLists = new WeakMap<Kysely<Database>, Map<string, string[]>>();
async function columnsOf(db: Kysely<Database>, table: string): Promise<string[]> {
  const known = columnLists.get(db) ?? new Map<string, string[]>();
  columnLists.set(db, known);
  let columns = known.get(table);
  if (!columns) {
    const rows = isPostgres(db)
      ? await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`.execute(db)
      : await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(db);
    columns = rows.rows.map((r) => r.name).sort();
    if (columns.length === 0) throw new Error(`snapshot: no table ${table}`);
    known.set(table, columns);
  }
  return columns;
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

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
