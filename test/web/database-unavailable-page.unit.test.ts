import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerErrorPages } from "../../src/web/errors.ts";
import { appWithLogLines, ERROR, WARN } from "../support/log-lines.ts";
import { unitConfig } from "../support/unit-app.ts";

/**
 * The one place that maps errors to answers (web/errors.ts): a database that is temporarily unavailable
 * answers 503 with Retry-After and the busy page, logged once as "database unavailable" without a stack;
 * any other fault stays the 500 "Something went wrong" page with its stack in the log.
 */
describe("the answer to a database that is temporarily unavailable", () => {
  const { app, lines } = appWithLogLines();
  beforeAll(async () => {
    registerErrorPages(app, unitConfig());
    app.get("/busy", () => {
      // better-sqlite3's own error, as a write gets it after the busy timeout; the route's parameters
      // must not reach the log.
      throw Object.assign(new SQLite.SqliteError("database is locked", "SQLITE_BUSY"), { parameters: ["secret-code-123456"] });
    });
    app.get("/bug", () => {
      const account = undefined as unknown as { id: string };
      return account.id;
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const warningsAndErrors = () => lines.filter((line) => line.level >= WARN);

  it("answers 503 with Retry-After and the busy page, logged once at warn as 'database unavailable'", async () => {
    lines.length = 0;
    const answer = await app.inject({ url: "/busy" });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    expect(answer.headers["content-type"]).toContain("text/html");
    expect(answer.body).toContain("<h1>Busy right now</h1>");
    expect(answer.body).toContain("FAMOS is busy at the moment and could not finish your request. Please try again in a moment.");
    const logged = warningsAndErrors();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: WARN, msg: "database unavailable", code: "SQLITE_BUSY", reason: "database is locked" });
    expect(JSON.stringify(logged[0])).not.toContain("secret-code-123456");
    expect(JSON.stringify(logged[0])).not.toContain("stack");
  });

  it("answers JSON to an API client, and the page in the reader's language", async () => {
    const json = await app.inject({ url: "/busy", headers: { accept: "application/json" } });
    expect(json.statusCode).toBe(503);
    expect(json.headers["retry-after"]).toBe("5");
    expect(json.json()).toEqual({ error: "FAMOS is busy at the moment and could not finish your request. Please try again in a moment.", statusCode: 503 });
    const german = await app.inject({ url: "/busy", headers: { "accept-language": "de" } });
    expect(german.body).toContain("<h1>Gerade ausgelastet</h1>");
    expect(german.body).toContain("FAMOS ist gerade ausgelastet");
  });

  it("leaves a fault of ours the 500 page, logged at error as 'request failed' with its stack, and no Retry-After", async () => {
    lines.length = 0;
    const answer = await app.inject({ url: "/bug" });
    expect(answer.statusCode).toBe(500);
    expect(answer.headers["retry-after"]).toBeUndefined();
    expect(answer.body).toContain("Something went wrong on our side. Nothing you entered was lost; please try again.");
    const logged = warningsAndErrors();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: ERROR, msg: "request failed", err: { type: "TypeError" } });
    expect(JSON.stringify(logged[0])).toContain("stack");
  });
});
