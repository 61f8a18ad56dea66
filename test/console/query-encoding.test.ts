import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * QA: an address pasted into a ticket, cut short or copied from a tool that writes another encoding
 * (`/support?q=%E0%A4%A`, Latin-1's `%FF`), must neither be searched for nor echoed as typed. Every
 * GET of the console answers malformed percent-encoding and malformed UTF-8 alike, before reading
 * anything: 400, "Check what you entered", in the reader's language (src/web/input-guard.ts), and
 * nothing is stored. Run over real HTTP, where the address reaches FAMOS as the browser sent it.
 */
describe("console addresses with malformed percent-encoding or UTF-8 (over HTTP, a German reader)", () => {
  let u: UnitApp;
  let agent: FormClient;
  let userId = "";
  let noticeId = "";

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    const me = await addUser(u.deps, { role: "admin", loginId: "enc.admin", email: "enc.admin@famos.test" });
    userId = String((await addUser(u.deps, { loginId: "enc.target" })).id);
    const inProcess = (await signIn({ app: u.app, mailbox: u.mailbox, deps: u.deps }, { user: me })).client;
    expect((await inProcess.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    await inProcess.get("/support/notices");
    expect((await inProcess.post("/support/notices", { title: "Wartung", body: "Wartung heute Abend" })).statusCode).toBeLessThan(400);
    noticeId = String((await u.deps.db.selectFrom("notices").select("id").executeTakeFirstOrThrow()).id);
    await u.app.listen({ host: "127.0.0.1", port: 0 });
    agent = new FormClient(overHttp(`http://127.0.0.1:${(u.app.server.address() as { port: number }).port}`));
    for (const [name, value] of inProcess.cookies) agent.cookies.set(name, value);
  });
  afterAll(async () => u?.close());

  // Cut short, not hex, a lone per cent sign; then well-formed escapes of bytes that are not UTF-8:
  // Latin-1, a broken two-byte sequence, an overlong "/", an encoded surrogate.
  const MALFORMED = ["%E0%A4%A", "%2", "%zz", "%", "%FF", "%C3%28", "%C0%AF", "%ED%A0%80"];

  it("every console page refuses them in the query, in the reader's language, storing nothing", async () => {
    const pages = ["/support", "/support/audit", "/support/audit.csv", "/support/notices", `/support/notices/${noticeId}`, "/support/addresses", "/support/attention", "/support/rollout", "/support/rollout.csv", `/support/users/${userId}`, `/support/users/${userId}/disable`, `/support/users/${userId}/temporary-password`, "/support/users/new"];
    // The sane CSV download below is itself audited (audit.exported), once; a refused address writes nothing.
    const count = async (exported: boolean) => Number((await u.deps.db.selectFrom("audit").select((eb) => eb.fn.countAll<number>().as("n")).where("event", exported ? "=" : "!=", "audit.exported").executeTakeFirstOrThrow()).n);
    const before = { other: await count(false), exported: await count(true) };
    for (const path of pages) {
      // A sane page first: the route is there and answers.
      expect((await agent.get(`${path}?q=ok`)).statusCode, path).toBe(200);
      for (const bad of MALFORMED) {
        for (const query of [`q=${bad}`, `user=a${bad}z&event=password.failed`, `page=${bad}`, `${bad}=1`]) {
          const response = await agent.get(`${path}?${query}`);
          expect(response.statusCode, `${path}?${query}`).toBe(400);
          expect(response.headers["content-type"]).toMatch(/^text\/html/);
          expect(response.body, `${path}?${query}`).toContain("<h1>Bitte prüfen Sie Ihre Eingabe</h1>");
          expect(response.body).toContain("Die Adresse dieser Anfrage ist ungültig.");
          expect(response.body).not.toContain(bad.length > 1 ? bad : "%=");
        }
      }
    }
    expect({ other: await count(false), exported: await count(true) }).toEqual({ other: before.other, exported: before.exported + 1 });
  });

  // The router refuses these before any route (src/web/app.ts, frameworkErrors): it spoke English.
  it("and in the path: a user's or a notice's number, in the reader's language too", async () => {
    for (const bad of MALFORMED) {
      for (const path of [`/support/users/${bad}`, `/support/users/${userId}${bad}`, `/support/notices/${bad}`]) {
        const response = await agent.get(path);
        expect(response.statusCode, path).toBe(400);
        expect(response.body, path).toContain("<h1>Bitte prüfen Sie Ihre Eingabe</h1>");
        expect(response.body, path).toContain("Diese Adresse ist keine gültige FAMOS-Adresse.");
      }
    }
  });

  it("well-formed escapes read as what they spell: a search for “Ö.Yılmaz” and “50%”", async () => {
    await addUser(u.deps, { loginId: "Ö.Yılmaz", fullName: "Özge Yılmaz" });
    const found = await agent.get(`/support?q=${encodeURIComponent("Ö.Yılmaz")}`);
    expect(found.statusCode).toBe(200);
    expect(found.body).toContain("Ö.Yılmaz</a>");
    const percent = await agent.get("/support?q=50%25");
    expect(percent.statusCode).toBe(200);
    expect(percent.body).toContain('value="50%"');
  });
});
