import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";

const DAY = 86_400_000;

/**
 * Early enrolment's "This is my own mailbox" tick (review 2026-12-07), as at /enrol and on Profile: offered
 * for an address another login ID already uses (FAMOS_SHARED_MAILBOX_POLICY=warn, the default), where the
 * page told the person to tick a box it did not show; and kept through a wrong password's answer, where the
 * next try with the right password then failed the address's check.
 */
describe("early enrolment's own-mailbox tick", () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite" });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function early() {
    const partner = `own${(n += 1)}`;
    await setWaveStart(t.deps.db, partner, t.clock.now() + 5 * DAY, t.clock.now(), "test");
    const user = await addUser(t.deps, { email: null, partnerNumber: partner });
    const client = new FormClient(t.app, `10.31.0.${n}`);
    expect((await submitPassword(client, user.login_id, user.password)).headers.location).toBe("/");
    await client.get("/rollout/enrol");
    return { user, client };
  }

  it("is offered for an address another login ID uses, and ticked it enrols that address", async () => {
    await addUser(t.deps, { email: "shared.desk@dealer.example" });
    const { user, client } = await early();
    const address = { email: "shared.desk@dealer.example", confirmEmail: "shared.desk@dealer.example", password: user.password };
    const refused = await client.post("/rollout/enrol", address);
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain("This is my own mailbox");
    expect(refused.body).toContain('name="ownMailbox"');
    const ticked = await client.post("/rollout/enrol", { ...address, ownMailbox: "yes" });
    expect(ticked.statusCode).toBe(303);
    expect(ticked.headers.location).toMatch(/^\/otp/);
  });

  it("stays ticked through a wrong password, and the right password then enrols", async () => {
    const { user, client } = await early();
    const address = { email: "info@dealer.example", confirmEmail: "info@dealer.example", ownMailbox: "yes" };
    const wrong = await client.post("/rollout/enrol", { ...address, password: "not the password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toMatch(/name="ownMailbox" value="yes" checked/);
    const right = await client.post("/rollout/enrol", { ...address, password: user.password });
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toMatch(/^\/otp/);
  });
});
