import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";

/**
 * QA: OTP capture said "requested at 16:49" and "sent at 16:49" with no zone, while the mail says
 * "(UK time)": staff in another zone than FAMOS_TIMEZONE (a dealer abroad, a laptop on holiday) could
 * not tell whether the code was theirs or still valid. The page names the zone as the mail does.
 */
describe("OTP capture names the time zone of the times it shows", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { FAMOS_TIMEZONE: "Europe/Berlin" } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("the sent line and an earlier code's message say the zone, in the reader's language", async () => {
    const email = `zone.${Date.now()}@dealer.example`;
    const user = await addUser(t.deps, { loginId: `zone.${Date.now()}`, email });
    const client = new FormClient(t.app, "127.0.0.1", { "accept-language": "en-GB" });
    const before = t.smtp.messages.length;
    expect((await submitPassword(client, user.login_id, user.password)).statusCode).toBe(303);
    const first = await nextCode(t.smtp, email, before);
    // Sent by now, or still on its way: either line names the zone.
    const page = (await client.get("/otp")).body;
    expect(page).toMatch(/(valid until|requested at) \d\d:\d\d \(?Central European( Summer)? Time\)?/);

    t.clock.advance(31_000);
    const mark = t.smtp.messages.length;
    expect((await client.post("/otp/regenerate")).statusCode).toBe(303);
    const second = await nextCode(t.smtp, email, mark);
    await client.get("/otp");
    if (first === second) return;
    const refused = await client.post("/otp", { code: first });
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toMatch(/sent at \d\d:\d\d \(?Central European( Summer)? Time\)?/);
  });

  it("German: the zone as German speakers say it", async () => {
    const email = `zone.de.${Date.now()}@dealer.example`;
    const user = await addUser(t.deps, { loginId: `zone.de.${Date.now()}`, email });
    const client = new FormClient(t.app, "127.0.0.1", { "accept-language": "de" });
    expect((await submitPassword(client, user.login_id, user.password)).statusCode).toBe(303);
    const page = (await client.get("/otp")).body;
    expect(page).toMatch(/(gilt bis|angefordert um) \d\d:\d\d \(?Mitteleuropäische (Sommer)?[zZ]eit\)?/);
  });

  it("Regenerate OTP pressed too soon (German): the wait's clock time names the zone too", async () => {
    const email = `zone.wait.${Date.now()}@dealer.example`;
    const user = await addUser(t.deps, { loginId: `zone.wait.${Date.now()}`, email });
    const client = new FormClient(t.app, "127.0.0.1", { "accept-language": "de" });
    expect((await submitPassword(client, user.login_id, user.password)).statusCode).toBe(303);
    await client.get("/otp");
    const regenerated = await client.post("/otp/regenerate");
    expect(regenerated.statusCode).toBe(303);
    const page = (await client.get(String(regenerated.headers.location))).body;
    expect(page).toMatch(/um \d\d:\d\d:\d\d Mitteleuropäische (Sommer)?[zZ]eit einen weiteren Code anfordern/);
  });
});
