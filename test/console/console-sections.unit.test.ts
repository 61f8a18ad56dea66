import Fastify, { type RouteOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { registerConsoleWriteGuard } from "../../src/web/console-guard.ts";
import { rolloutRoutes } from "../../src/web/routes/rollout.ts";
import { supportRoutes } from "../../src/web/routes/support.ts";
import { createUnitApp, useUnitDeps, type UnitApp } from "../support/unit-app.ts";

/**
 * A console route that changes something (`consoleWrite`) names its section in its own config
 * (`consoleSection`): the step-up and limit pages mark that section and lead Cancel back to it
 * (console-guard.ts whereFrom). One list, the routes'; a write route without one stops the start.
 */
describe("console write routes name their section", () => {
  const unit = useUnitDeps();

  it("every console write route has a section, and its path lies in that section", async () => {
    const app = Fastify();
    const writes: { url: string; section: unknown }[] = [];
    app.addHook("onRoute", (route: RouteOptions) => {
      const config = route.config as { consoleWrite?: string; consoleSection?: string } | undefined;
      if (config?.consoleWrite) writes.push({ url: route.url, section: config.consoleSection });
    });
    registerConsoleWriteGuard(app, unit.deps);
    supportRoutes(app, unit.deps);
    rolloutRoutes(app, unit.deps);
    await app.ready();
    expect(writes.length).toBeGreaterThan(10);
    const astray = writes.filter((w) => typeof w.section !== "string" || !(w.url === `/support/${w.section}` || w.url.startsWith(`/support/${w.section}/`)));
    expect(astray).toEqual([]);
    await app.close();
  });

  it("a console write route without a section is refused when it is added", async () => {
    const app = Fastify();
    registerConsoleWriteGuard(app, unit.deps);
    expect(() => app.post("/support/somewhere", { config: { access: "support", consoleWrite: "counted" } }, async () => "ok")).toThrow(/\/support\/somewhere.*consoleSection/);
    await app.close();
  });

  it("one with a section is added", async () => {
    const app = Fastify();
    registerConsoleWriteGuard(app, unit.deps);
    app.post("/support/notices/x", { config: { access: "support", consoleWrite: "counted", consoleSection: "notices" } }, async () => "ok");
    await app.ready();
    await app.close();
  });
});

describe("the step-up page marks the action's section and leads Cancel back to it", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp();
  });
  afterAll(async () => u.close());

  it("users (to the account's page, or the list), addresses, rollout", async () => {
    const { client } = await signIn({ app: u.app, deps: u.deps, mailbox: u.mailbox }, { role: "admin", page: "/support" });
    // The code over an hour old, the session kept alive (FAMOS_SESSION_IDLE 30m): every write asks again.
    for (let i = 0; i < 3; i += 1) {
      u.clock.advance(25 * 60_000);
      expect((await client.get("/support")).statusCode).toBe(200);
    }
    const user = await addUser(u.deps);
    const cases: [string, string, string][] = [
      [`/support/users/${user.id}/unlock`, "/support", `/support/users/${user.id}`],
      ["/support/users/new", "/support", "/support"],
      ["/support/addresses/unlock", "/support/addresses", "/support/addresses"],
      ["/support/rollout/plan", "/support/rollout", "/support/rollout"],
    ];
    for (const [action, nav, cancel] of cases) {
      const answer = await client.post(action, { ticket: "INC1" });
      expect(answer.statusCode, action).toBe(401);
      expect(answer.body, action).toContain(`<a href="${nav}" aria-current="page">`);
      expect(answer.body, action).toMatch(new RegExp(`<a class="button secondary" href="${cancel.replace(/[/]/g, "\\/")}">`));
    }
  });
});
