import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuditEvent } from "../../src/audit/events.ts";
import { createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, overHttp, signIn } from "../support/client.ts";

/**
 * SPEC "Bad input": an event filter that names no event is said to be one, over real HTTP, on the
 * audit trail's page and its CSV export. Names an object has of its own (toString, constructor,
 * __proto__) are no event either: they were taken as one and answered "No events match.", telling
 * support nothing happened rather than that the filter was wrong.
 */
describe("audit trail: an event filter naming no event", () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
    base = await listen(t);
  });
  afterAll(async () => t.close());

  const NOT_EVENTS = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];

  it("is refused with 400 and its reason on the page and the CSV export, for support and admin alike", async () => {
    for (const role of ["support", "admin"] as const) {
      const { client } = await signIn(t, { role, client: new FormClient(overHttp(base)) });
      for (const name of NOT_EVENTS) {
        const page = await client.get(`/support/audit?event=${encodeURIComponent(name)}`);
        expect(page.statusCode, `${role} page ${name}`).toBe(400);
        expect(page.body, `${role} page ${name}`).toContain(`There is no event called “${name}”.`);
        const csv = await client.get(`/support/audit.csv?event=${encodeURIComponent(name)}`);
        expect(csv.statusCode, `${role} csv ${name}`).toBe(400);
        expect(csv.body, `${role} csv ${name}`).toContain(`There is no event called “${name}”.`);
      }
      expect((await client.get("/support/audit?event=password.failed")).statusCode).toBe(200);
    }
  });

  it("the one rule (also `famos audit --event`) knows the events and nothing an object inherits", () => {
    expect(isAuditEvent("password.failed")).toBe(true);
    for (const name of [...NOT_EVENTS, "", "made.up"]) expect(isAuditEvent(name), name).toBe(false);
  });
});
