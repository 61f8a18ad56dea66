import { readFileSync } from "node:fs";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { deliveryBlock, type CodeDelivery } from "../../src/web/pages/code-entry.ts";

/**
 * OTP capture's served module (src/web/public/delivery-status.js) asks for the delivery line again while
 * the mail is pending, for as long as the code can still be confirmed (the code's validity the page was
 * rendered with, FAMOS_OTP_TTL: 15 minutes by default, maybe an hour), never longer, and never forever.
 * The module runs here as the browser runs it, with its clock, timers, fetch and document injected.
 */
const SOURCE = readFileSync(new URL("../../src/web/public/delivery-status.js", import.meta.url), "utf8");
const MINUTE = 60_000;

/** Runs the module on a page whose #delivery carries `dataset`; every answer says `pending` until `settledAt`. */
function runModule(dataset: Record<string, string>, settledAt = Infinity) {
  let now = 1_700_000_000_000;
  const start = now;
  const timers: { at: number; run: () => unknown }[] = [];
  const polls: number[] = [];
  const box = { dataset, innerHTML: "" };
  const context = {
    document: { getElementById: (id: string) => (id === "delivery" ? box : null) },
    setTimeout: (run: () => unknown, ms: number) => timers.push({ at: now + Math.max(0, ms), run }),
    Date: { now: () => now },
    fetch: async () => {
      polls.push(now - start);
      return { ok: true, json: async () => ({ pending: now - start < settledAt, html: "<p>line</p>" }) };
    },
  };
  runInNewContext(SOURCE, context);
  return {
    polls,
    /** Runs the timers in time order until none is left (or a bound, so a module that never stops fails). */
    async drain(bound = 100_000) {
      for (let i = 0; i < bound && timers.length > 0; i++) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift()!;
        now = next.at;
        await next.run();
      }
      return timers.length === 0;
    },
  };
}

describe("delivery-status.js: how long OTP capture keeps asking", () => {
  it("a 15-minute code: asks until it expires (past the old ten minutes), and not after", async () => {
    const m = runModule({ statusUrl: "/otp/delivery", validForMs: String(15 * MINUTE) });
    expect(await m.drain()).toBe(true);
    expect(Math.max(...m.polls)).toBeGreaterThanOrEqual(15 * MINUTE - 5_000);
    expect(Math.max(...m.polls)).toBeLessThanOrEqual(15 * MINUTE);
  });

  it("FAMOS_OTP_TTL of an hour: asks for the hour, backing off (far fewer than one ask per 3 s)", async () => {
    const m = runModule({ statusUrl: "/otp/delivery", validForMs: String(60 * MINUTE) });
    expect(await m.drain()).toBe(true);
    expect(Math.max(...m.polls)).toBeGreaterThanOrEqual(60 * MINUTE - 30_000);
    expect(Math.max(...m.polls)).toBeLessThanOrEqual(60 * MINUTE);
    expect(m.polls.length).toBeLessThan(400);
    // The first minute, while the sender retries after 2, 4, 8, 16 and 32 s, every few seconds.
    expect(m.polls.filter((at) => at <= MINUTE).length).toBeGreaterThanOrEqual(15);
  });

  it("a code rendered with 20 s left: asks until then, then stops", async () => {
    const m = runModule({ statusUrl: "/otp/delivery", validForMs: "20000" });
    expect(await m.drain()).toBe(true);
    expect(Math.max(...m.polls)).toBeLessThanOrEqual(20_000);
    expect(m.polls.length).toBeGreaterThan(0);
  });

  it("stops at the first answer that is no longer pending", async () => {
    const m = runModule({ statusUrl: "/otp/delivery", validForMs: String(15 * MINUTE) }, 2 * MINUTE);
    expect(await m.drain()).toBe(true);
    expect(Math.max(...m.polls)).toBeLessThan(2 * MINUTE + 30_000);
  });

  it("a page without the code's validity (an older page's HTML): stops after ten minutes, as before", async () => {
    const m = runModule({ statusUrl: "/otp/delivery" });
    expect(await m.drain()).toBe(true);
    expect(Math.max(...m.polls)).toBeLessThanOrEqual(10 * MINUTE);
  });
});

describe("deliveryBlock: the page tells the module how long the code can still be confirmed", () => {
  const t = translator("en-GB", "Europe/London");
  const d: CodeDelivery = { maskedEmail: "a•••@dealer.example", sentAt: "10:00", validUntil: "10:15", zoneAt: null, mailState: "queued", validForMs: 840_000 };

  it("pending: data-valid-for-ms beside the status URL", () => {
    const block = deliveryBlock(t, d, "/otp/delivery").value;
    expect(block).toContain('data-status-url="/otp/delivery"');
    expect(block).toContain('data-valid-for-ms="840000"');
  });

  it("a code that can no longer be confirmed: nothing to wait for, no module", () => {
    const block = deliveryBlock(t, { ...d, validForMs: 0 }, "/otp/delivery").value;
    expect(block).not.toContain("delivery-status.js");
    expect(block).not.toContain("data-status-url");
  });
});
