import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { CATALOGUES } from "../../src/i18n/catalogues.ts";
import { changeRole } from "../../src/support/roles.ts";
import { findUserById } from "../../src/users/users.ts";
import { addUser, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

/**
 * The persona walk on a German console: a user's recent security events, made by real flows (a wrong
 * password, a sign-in with its code, the other browser's session ended from Profile, a role changed by an administrator, a bounce of the code mail whose
 * words name another mailbox), read in Chromium. No detail field is named in English, and the other
 * mailbox is masked.
 */
describe("a user's security events in German, in Chromium", () => {
  const chromium = useBrowser();
  let u: UnitApp;
  let base: string;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "" } });
    base = await listen(u as unknown as TestApp);
  });
  afterAll(async () => {
    await u?.close();
  });

  it("names no detail field in English on the user's page", async () => {
    const admin = await addUser(u.deps, { role: "admin", loginId: "pruefer.de", email: "pruefer.de@famos.test" });
    const target = await addUser(u.deps, { loginId: "ereignis.de", email: "ereignis.de@autohaus.example" });
    // A wrong password, then a sign-in: password.failed, password.ok, code.sent, code.confirmed.
    const wrong = new FormClient(overHttp(base));
    await wrong.get("/login");
    await wrong.post("/login", { loginId: target.login_id, password: "not her password at all" });
    await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    // Signed in on a second browser, she ends the first one's session from Profile: session.ended by her.
    const second = await signIn({ mailbox: u.mailbox }, { user: target, client: new FormClient(overHttp(base)) });
    expect((await second.client.post("/profile/sessions/end-others", {})).statusCode).toBe(303);
    const mail = await u.deps.db.selectFrom("outbox").select("id").where("user_id", "=", target.id).orderBy("created_at").executeTakeFirstOrThrow();
    await recordBounce(u.deps, { outboxId: mail.id, kind: "soft", status: "4.2.2", reason: "452 4.2.2 mailbox full; write to mark.other@autohaus.example" }, "webhook");
    const by = (await findUserById(u.deps.db, admin.id))!;
    expect((await changeRole(u.deps, { user: by, audit: { actor: by.login_id, ip: "192.0.2.70", userAgent: "audit-detail-browser" } }, (await findUserById(u.deps.db, target.id))!, "support")).kind).toBe("changed");

    const client = new FormClient(overHttp(base));
    await signIn({ mailbox: u.mailbox }, { user: admin, client });
    expect((await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    const page = await chromium.newPage();
    await page.context().addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: base })));
    await page.goto(`${base}/support/users/${target.id}`);
    expect(await page.getAttribute("html", "lang")).toBe("de");

    const rows = await page.locator("#events-caption").locator("xpath=..").locator("tbody tr").evaluateAll((trs) =>
      trs.map((tr) => ({ event: tr.querySelector(".event")?.textContent ?? "", detail: tr.lastElementChild?.textContent ?? "" })),
    );
    const events = new Set(rows.map((r) => r.event));
    for (const event of ["password.failed", "password.ok", "code.sent", "code.confirmed", "session.ended", "mail.bounced", "role.changed"]) expect(events, event).toContain(event);

    const english = new Set(Object.entries(CATALOGUES["en-GB"] as Record<string, string>).filter(([key]) => key.startsWith("console.detail.key.")).map(([, name]) => name));
    const pairs = rows.flatMap((r) => (r.detail === "" ? [] : r.detail.split(", ").map((pair) => ({ event: r.event, key: pair.split(": ")[0]!, pair }))));
    expect(pairs.length).toBeGreaterThan(6);
    expect(pairs.filter((p) => english.has(p.key)).map((p) => `${p.event} ${p.pair}`)).toEqual([]);
    expect(rows.find((r) => r.event === "role.changed")?.detail).toBe("von: Benutzer, an: Support");
    const body = (await page.textContent("body"))!;
    expect(body).not.toContain("mark.other@autohaus.example");
    expect(body).toContain("m•••@autohaus.example");
    await page.close();
  });
});
