import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { signInInBrowser } from "../support/browser.ts";
import { startExampleApp } from "./protected-support.ts";

/** A customer's finance details, as the protected application shows them on one of its pages. */
const CUSTOMER = "Customer Jane Doe, IBAN GB33BUKB20201555555555";

/** The caching the application may choose for its pages (FAMOS keeps its headers): none, a validator, no-cache, a lifetime. */
const CACHING: Record<string, Record<string, string>> = {
  none: {},
  validator: { "last-modified": new Date(Date.now() - 30 * 86_400_000).toUTCString() },
  "no-cache": { "cache-control": "private, no-cache" },
  lifetime: { "cache-control": "private, max-age=600" },
};

/**
 * A counter PC the showroom shares: one person signs out and walks away, a colleague sits down at the
 * same browser and presses Back, or types a section's address again. The application's pages that
 * person saw must not come back from the browser's caches (its back/forward cache or its HTTP cache):
 * they are served with the application's own headers, which FAMOS keeps, so Sign out has to empty them.
 */
describe("a shared PC in reverse-proxy mode: after Sign out, the application's pages the person saw are gone from the browser", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  const chromium = useBrowser();
  let famos: string;
  beforeAll(async () => {
    upstream = await startExampleApp((request, response) => {
      const caching = /^\/customer\/42\?(.+)$/.exec(request.url ?? "")?.[1];
      if (caching === undefined || !(caching in CACHING)) return false;
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", ...CACHING[caching] });
      response.end(`<!doctype html><html lang="en"><head><title>Customer</title></head><body><h1>Customer</h1><p id="customer">${CUSTOMER}</p></body></html>`);
      return true;
    });
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
    famos = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.stop();
  });

  it("Back through the history and each address typed again reach sign-in, whatever caching the application chose", async () => {
    const user = await addUser(t.deps, { loginId: "counter.pc", email: "counter.pc@dealer.example" });
    const page = await chromium.newPage();
    await signInInBrowser(page, t.mailbox, user, `${famos}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    for (const caching of Object.keys(CACHING)) {
      await page.goto(`${famos}/customer/42?${caching}`);
      expect(await page.locator("#customer").textContent(), caching).toBe(CUSTOMER);
    }
    await page.goto(`${famos}/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");

    const shown: string[] = [];
    const look = async (how: string) => {
      if ((await page.content()).includes(CUSTOMER)) shown.push(`${how}: ${new URL(page.url()).search}`);
    };
    // Chromium may swap the page's renderer while it restores a page from history, and a Back asked
    // for in that moment fails with "Not attached to an active page" (seen once in three CI runs):
    // then the page it is on is looked at too and Back asked again, so no page on the way is missed.
    const back = async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await page.goBack({ waitUntil: "load" });
        } catch (error) {
          if (attempt >= 3 || !String(error).includes("Not attached to an active page")) throw error;
          await page.waitForLoadState("load");
          await look("Back");
        }
      }
    };
    for (let step = 0; step < 2 + Object.keys(CACHING).length; step += 1) {
      await back();
      await look("Back");
    }
    for (const caching of Object.keys(CACHING)) {
      await page.goto(`${famos}/customer/42?${caching}`);
      await look("typed");
    }
    expect(shown).toEqual([]);
  });

  // How long emptying the cache takes is a figure, printed here, not asserted: speed is a benchmark's
  // to measure, and a shared machine's timings are noise (a shared PC's large cache may take longer:
  // SECURITY.md says so). What is asserted is that Sign out still reaches sign-in.
  it("Sign out reaches sign-in after emptying the cache (the time it took printed)", async () => {
    const user = await addUser(t.deps, { loginId: "counter.pc.quick", email: "counter.pc.quick@dealer.example" });
    const page = await chromium.newPage();
    await signInInBrowser(page, t.mailbox, user, `${famos}/login`);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    for (const caching of Object.keys(CACHING)) await page.goto(`${famos}/customer/42?${caching}`);
    await page.goto(`${famos}/`);
    const started = Date.now();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Log in" }).waitFor();
    console.log(`sign-out to the sign-in page: ${Date.now() - started} ms`);
    expect(new URL(page.url()).pathname).toBe("/login");
  });
});
