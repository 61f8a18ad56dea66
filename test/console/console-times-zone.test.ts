import { testLoginDigest } from "../support/login-counter.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordFailure } from "../../src/regulation/throttle.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signIn, type TestUser } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";
import { addConfirmedApp } from "../strong-factors/helpers.ts";

/**
 * QA: the IT team at head office reads the console for dealerships in other zones. The console showed
 * its times in the reader's zone without naming it, so a lock "until 15:15" could be read as the
 * dealership's time. Every console clock time names its zone (Translator.withZone): a table names it
 * once, in the heading of the column of times; a sentence names it beside each time.
 */
describe("console times name their zone (a German reader in Berlin on a London deployment)", () => {
  let u: UnitApp;
  let agent: FormClient;
  let target: TestUser;
  const ENTITIES: Record<string, string> = { "&amp;": "&", "&quot;": '"', "&#39;": "'" };
  const decode = (body: string) => body.replace(/&(amp|quot|#39);/g, (e) => ENTITIES[e]!);
  // The fixed clock's 28/11/2026 14:00 UTC is 15:00 in Berlin.
  const AT = "28.11.2026 15:00";
  const ZONE = "Mitteleuropäische Zeit";

  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "", FAMOS_TIMEZONE: "Europe/London" } });
    const app = { app: u.app, mailbox: u.mailbox, deps: u.deps };
    const me = await addUser(u.deps, { role: "support", loginId: "zone.agent", email: "zone.agent@famos.test" });
    agent = (await signIn(app, { user: me })).client;
    expect((await agent.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    target = await addUser(u.deps, { loginId: "zone.target", fullName: "Zoe Zone", partnerNumber: "07070", email: "zone.target@dealer.example" });
    await signIn(app, { user: target });
    await addConfirmedApp(u.deps, target.id);
    for (let i = 0; i < 5; i += 1) await recordFailure(u.deps.db, "password", { loginKey: testLoginDigest(target.login_id), ip: "10.9.9.9" }, u.clock.now(), u.config, target.login_key);
  });
  afterAll(async () => u?.close());

  it("a table names the zone once, in the heading of its column of times (search results)", async () => {
    const page = decode((await agent.get("/support?q=zone.target")).body);
    expect(page).toContain(`<th scope="col">Letzte Anmeldung (${ZONE})</th>`);
    // Its cells as every console table's (consoleTime): the local time, and beside it the ISO 8601 form with its offset.
    expect(page).toMatch(new RegExp(`<td><time datetime="(2026-11-28T15:00:\\d\\d\\+01:00)">${AT}</time> <span class="iso">\\1</span></td></tr>`));
  });

  it("a sentence names it beside each time (the user's page: sign-in, creation, lock, factors)", async () => {
    const page = decode((await agent.get(`/support/users/${target.id}`)).body);
    expect(page).toContain(`<dt>Letzte Anmeldung</dt><dd>${AT} (${ZONE})</dd>`);
    expect(page).toContain(`<dt>Konto erstellt</dt><dd>${AT} (${ZONE})</dd>`);
    // Where the sentence has brackets of its own right after the time, the zone goes without.
    expect(page).toMatch(new RegExp(`gesperrt bis \\d\\d\\.\\d\\d\\.2026 \\d\\d:\\d\\d ${ZONE} \\(`));
    expect(page).toContain(`Authenticator-App (eingerichtet am ${AT} ${ZONE}, nie verwendet)`);
    // An event's detail is a sentence of its own, in the events table.
    expect(page).toMatch(new RegExp(`bis: \\d\\d\\.\\d\\d\\.2026 \\d\\d:\\d\\d \\(${ZONE}\\)`));
    // The mails table: its columns of times name the zone in their headings.
    expect(page).toContain(`<th scope="col">Eingereiht (${ZONE})</th>`);
    expect(page).not.toContain("Europe/London");
  });
});
