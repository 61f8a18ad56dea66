import SQLite from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/app/metrics.ts";
import { AFTER_REPLY_LIMIT, registerAfterReply } from "../../src/web/after-reply.ts";
import { appWithLogLines, ERROR, WARN } from "../support/log-lines.ts";
import { until } from "../support/until.ts";

/** A promise the test lets go of: work that takes as long as the test says. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A few turns of the event loop: long enough for a close that did not wait to have finished. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * afterReply (web/after-reply.ts): work a route asks for starts once its answer has gone, so the
 * answer's time does not depend on it (password-reset.ts). A failure there is one line at error and
 * nothing more: the server answers the next request. The app's close waits for work in flight, since
 * the database is closed after it. At most AFTER_REPLY_LIMIT pieces wait or run: a flood's next ones
 * are dropped (counted, warned about at most once a second), decided after the answer.
 */
describe("work after the reply", () => {
  async function appWithWork(work: () => Promise<unknown>) {
    const { app, lines } = appWithLogLines();
    const metrics = createMetrics();
    registerAfterReply(app, metrics);
    app.get("/later", async (_request, reply) => {
      app.afterReply.run(reply, "the test's work", work);
      return "answered";
    });
    app.get("/ok", async () => "still serving");
    await app.ready();
    /** famos_after_reply_failures_total for the test's work, as /metrics shows it. */
    const failures = async () => (await metrics.afterReplyFailed.get()).values.find((v) => v.labels.work === "the test's work")?.value ?? 0;
    /** famos_after_reply_dropped_total for the test's work. */
    const dropped = async () => (await metrics.afterReplyDropped.get()).values.find((v) => v.labels.work === "the test's work")?.value ?? 0;
    return { app, lines, failures, dropped };
  }

  it("starts the work only after the answer is sent, and the answer does not wait for it", async () => {
    const held = gate();
    const seen: string[] = [];
    let received = false;
    const { app, failures } = await appWithWork(async () => {
      seen.push(received ? "started after the answer" : "started before the answer");
      await held.opened;
      seen.push("done");
    });
    try {
      const answer = await app.inject({ url: "/later" });
      received = true;
      expect(answer.body).toBe("answered");
      await turns();
      expect(seen).not.toContain("done");
      held.open();
      await app.afterReply.settled();
      expect(seen).toEqual(["started after the answer", "done"]);
      expect(await failures()).toBe(0);
    } finally {
      held.open();
      await app.close();
    }
  });

  it("logs a failure of the work once at error, saying what failed (the database's code, no parameters), and keeps serving", async () => {
    const busy = Object.assign(new SQLite.SqliteError("database is locked", "SQLITE_BUSY"), { parameters: ["secret-code-123456"] });
    const { app, lines, failures } = await appWithWork(() => Promise.reject(busy));
    try {
      expect((await app.inject({ url: "/later" })).body).toBe("answered");
      await app.afterReply.settled();
      // Counted, for the operator: the user saw the answer and will see no mail.
      expect(await failures()).toBe(1);
      const logged = lines.filter((line) => line.level >= WARN);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: ERROR, msg: "failed after the answer; the answer had gone already", after: "the test's work", code: "SQLITE_BUSY" });
      expect(JSON.stringify(logged[0])).not.toContain("secret-code-123456");
      expect((await app.inject({ url: "/ok" })).body).toBe("still serving");
    } finally {
      await app.close();
    }
  });

  it("logs a fault of ours thrown before the work's first await, with its stack, and rejects nothing", async () => {
    const { app, lines } = await appWithWork(() => (undefined as unknown as { run(): Promise<void> }).run());
    try {
      await app.inject({ url: "/later" });
      await app.afterReply.settled();
      expect(lines.filter((line) => line.level >= WARN)).toMatchObject([{ level: ERROR, after: "the test's work", err: { type: "TypeError" } }]);
    } finally {
      await app.close();
    }
  });

  it("drops work beyond AFTER_REPLY_LIMIT waiting or running (counted, one warning a second), finishes the earlier, and takes work again once some are done", async () => {
    let held = gate();
    let started = 0;
    let done = 0;
    const { app, lines, failures, dropped } = await appWithWork(async () => {
      started += 1;
      await held.opened;
      done += 1;
    });
    const later = () => app.inject({ url: "/later" });
    const warnings = () => lines.filter((line) => line.level >= WARN);
    try {
      await Promise.all(Array.from({ length: AFTER_REPLY_LIMIT }, later));
      await until("the work to start", () => started === AFTER_REPLY_LIMIT);
      // Beyond the limit: answered as ever (the decision comes after the answer), the work not started.
      const beyond = await Promise.all([later(), later(), later()]);
      expect(beyond.map((answer) => [answer.statusCode, answer.body])).toEqual([[200, "answered"], [200, "answered"], [200, "answered"]]);
      await until("the drops to be counted", async () => (await dropped()) === 3);
      await turns();
      expect(started).toBe(AFTER_REPLY_LIMIT);
      // Told once, not once per dropped piece: the first at once, the rest in the next line (a second on, or at close).
      expect(warnings()).toEqual([
        expect.objectContaining({ level: WARN, dropped: 1, limit: AFTER_REPLY_LIMIT, msg: "work after the answer dropped: too much already waiting or running" }),
      ]);
      held.open();
      await app.afterReply.settled();
      expect(done).toBe(AFTER_REPLY_LIMIT);
      expect(await failures()).toBe(0);

      // Room again: the next is taken, and the close waits for it.
      held = gate();
      await later();
      await until("the next work to start", () => started === AFTER_REPLY_LIMIT + 1);
      const order: string[] = [];
      const closing = app.close().then(() => order.push("closed"));
      await turns();
      expect(order).toEqual([]);
      held.open();
      await closing;
      expect(done).toBe(AFTER_REPLY_LIMIT + 1);
      expect(await dropped()).toBe(3);
      // The drops not yet told are told at close.
      expect(warnings().map((line) => line.dropped)).toEqual([1, 2]);
    } finally {
      held.open();
      await app.close();
    }
  });

  it("closes only once the work in flight is done", async () => {
    const held = gate();
    const order: string[] = [];
    const { app } = await appWithWork(async () => {
      await held.opened;
      order.push("work done");
    });
    await app.inject({ url: "/later" });
    await turns();
    const closing = app.close().then(() => order.push("closed"));
    await turns();
    expect(order).toEqual([]);
    held.open();
    await closing;
    expect(order).toEqual(["work done", "closed"]);
  });
});
