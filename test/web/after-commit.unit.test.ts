import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { afterCommit } from "../../src/web/after-commit.ts";
import { registerErrorPages } from "../../src/web/errors.ts";
import { appWithLogLines, ERROR, WARN } from "../support/log-lines.ts";
import { unitConfig } from "../support/unit-app.ts";

/**
 * afterCommit (web/after-commit.ts): a step after a request's action has committed does not turn the
 * answer into the busy page. Its failure is one line at error, saying what failed, and the answer is
 * what was done; the error handler (a failure outside afterCommit) still answers 503.
 */
describe("a step after the commit, best effort", () => {
  const { app, lines } = appWithLogLines();
  beforeAll(async () => {
    registerErrorPages(app, unitConfig());
    const busy = () => Object.assign(new SQLite.SqliteError("database is locked", "SQLITE_BUSY"), { parameters: ["secret-code-123456"] });
    app.get("/after", async (request) => afterCommit(request, "the page's notices", () => Promise.reject(busy()), () => "done, without notices"));
    app.get("/bug", async (request) =>
      afterCommit(request, "the page's banner", async () => (undefined as unknown as { id: string }).id, () => "done, without the banner"),
    );
    app.get("/ok", async (request) => afterCommit(request, "the page's notices", async () => "with notices", () => "without"));
    app.get("/before", async () => {
      throw busy();
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const logged = () => lines.filter((line) => line.level >= WARN);

  it("answers with what was done, and logs the database's failure once at error with what failed (no parameters, no stack)", async () => {
    lines.length = 0;
    const answer = await app.inject({ url: "/after" });
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toBe("done, without notices");
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toMatchObject({ level: ERROR, msg: "failed after the commit; answered with what was done", after: "the page's notices", code: "SQLITE_BUSY", reason: "database is locked" });
    expect(JSON.stringify(logged()[0])).not.toContain("secret-code-123456");
    expect(JSON.stringify(logged()[0])).not.toContain("stack");
  });

  it("logs a fault of ours there with its stack, and still answers with what was done", async () => {
    lines.length = 0;
    const answer = await app.inject({ url: "/bug" });
    expect(answer.body).toBe("done, without the banner");
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toMatchObject({ level: ERROR, after: "the page's banner", err: { type: "TypeError" } });
  });

  it("uses the step's own result when it works, and logs nothing", async () => {
    lines.length = 0;
    expect((await app.inject({ url: "/ok" })).body).toBe("with notices");
    expect(logged()).toEqual([]);
  });

  it("leaves a failure outside it (before or during the transaction) the busy page", async () => {
    const answer = await app.inject({ url: "/before" });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
  });
});
