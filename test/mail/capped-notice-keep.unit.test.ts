import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { NOTICE_CAP_WINDOW_MS } from "../../src/mail/capped-notice.ts";
import { TEST_SECRET } from "../support/app.ts";

/**
 * A capped notice (queueCappedNotice) counts its kind's mails of the last hour in the outbox, whose sent
 * mails the cleanup deletes after FAMOS_MAIL_KEEP (retention/cleanup.ts). The count is right only while
 * no mail of the hour is deleted: FAMOS_MAIL_KEEP's minimum must not fall below the cap's window.
 */
describe("FAMOS_MAIL_KEEP and the hourly cap of notices", () => {
  const seconds = NOTICE_CAP_WINDOW_MS / 1000;

  it("refuses a FAMOS_MAIL_KEEP shorter than the cap's window", () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_MAIL_KEEP: `${seconds - 1}s` });
    expect(loaded.ok ? loaded.config.lifecycle.mailKeepMs : loaded.errors.join("\n")).toMatch(/^FAMOS_MAIL_KEEP: /);
  });

  it("takes one as long as the window", () => {
    const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_MAIL_KEEP: `${seconds}s` });
    expect(loaded.ok ? loaded.config.lifecycle.mailKeepMs : loaded.errors).toBe(NOTICE_CAP_WINDOW_MS);
  });
});
