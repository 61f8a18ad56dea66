import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { signInInBrowser } from "../support/browser.ts";
import { rememberState, saveQuotationInBrowser, startExampleApp } from "./protected-support.ts";

/**
 * A page of the protected application whose script tries what an injected script would (issue 19.4):
 * read FAMOS's Profile, read a user's console page for its CSRF token, and make that user an admin.
 * No CSP of its own, so nothing but FAMOS's sandbox stands in its way.
 */
function hostilePage(targetId: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vehicle offers</title></head><body>
<h1>Vehicle offers</h1><p id="result">running</p>
<script>
(async () => {
  const out = { origin: String(window.origin) };
  try {
    const profile = await fetch("/profile", { credentials: "include" });
    const text = await profile.text();
    out.profile = profile.status + (text.includes("Partner number") ? " read" : " unread");
  } catch (e) { out.profile = "blocked"; }
  let token = "";
  try {
    const page = await fetch("/support/users/${targetId}", { credentials: "include" });
    token = (/name="_csrf" value="([^"]+)"/.exec(await page.text()) || [])[1] || "";
    out.token = token ? "read" : "none";
  } catch (e) { out.token = "blocked"; }
  try {
    const post = await fetch("/support/users/${targetId}/role", {
      method: "POST", credentials: "include",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "role=admin&_csrf=" + encodeURIComponent(token),
    });
    out.role = String(post.status);
  } catch (e) { out.role = "blocked"; }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>`;
}

/** The example application, plus the hostile page at /vehicle/offers and its own session cookie (rememberState). */
function startUpstream(hostile: () => string): ReturnType<typeof startExampleApp> {
  return startExampleApp((request, response) => {
    if (request.url !== "/vehicle/offers") return rememberState(request, response);
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(hostile());
    return true;
  });
}

describe("issue 19.4: the protected application runs sandboxed, in Chromium", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const chromium = useBrowser();
  let famos: string;
  let targetId = "";

  beforeAll(async () => {
    upstream = await startUpstream(() => hostilePage(targetId));
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
    famos = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.stop();
  });

  async function signIn(page: Page, user: { login_id: string; password: string; otp_email: string | null }, path: string) {
    await page.goto(`${famos}${path}`);
    await signInInBrowser(page, t.mailbox, user);
    await expect.poll(() => new URL(page.url()).pathname).toBe(path);
  }

  it("an upstream script can neither read /profile nor make a user admin through the console", async () => {
    const admin = await addUser(t.deps, { loginId: "sandbox.admin", role: "admin" });
    const victim = await addUser(t.deps, { loginId: "sandbox.victim", role: "user" });
    targetId = victim.id;
    const page = await chromium.newPage();
    await signIn(page, admin, "/vehicle/offers");
    await expect.poll(() => page.locator("#result").textContent(), { timeout: 10_000 }).not.toBe("running");
    const out = JSON.parse((await page.locator("#result").textContent())!) as Record<string, string>;
    const stored = await t.deps.db.selectFrom("users").select("role").where("id", "=", victim.id).executeTakeFirstOrThrow();
    expect(stored.role, JSON.stringify(out)).toBe("user");
    // An opaque origin: FAMOS's pages are cross-origin to the script, and it holds none of FAMOS's cookies.
    expect(out).toEqual({ origin: "null", profile: "blocked", token: "blocked", role: "blocked" });
    // The admin's own FAMOS pages still work in the same browser.
    await page.goto(`${famos}/support/users/${victim.id}`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain("sandbox.victim");
  });

  it("the application's ordinary forms and links keep working inside the sandbox", async () => {
    const user = await addUser(t.deps, { loginId: "sandbox.user", fullName: "Zoë O'Brien" });
    const page = await chromium.newPage();
    await signIn(page, user, "/quotation");
    await expect.poll(() => page.locator("#signed-in-name").textContent()).toBe("Zoë O'Brien");
    // Its own form, with its own token, posts back through FAMOS and echoes.
    await saveQuotationInBrowser(page, { customer: "Ana Núñez", vehicle: "Škoda Octavia", amount: "18500" });
    // Its links lead to the other sections, still signed in.
    await page.getByRole("link", { name: "Customer", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/customer");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Customer");
    expect(await page.locator("#signed-in-login").textContent()).toBe("sandbox.user");
  });

  it("a shared PC: the application's own session cookie, set for A, does not reach the application once B has signed in, and B's sign-in ends it in the browser", async () => {
    const a = await addUser(t.deps, { loginId: "shared.browser.a" });
    const b = await addUser(t.deps, { loginId: "shared.browser.b" });
    const page = await chromium.newPage();
    /** Who the application was told is signed in, and the Cookie header it received (its diagnostics page). */
    const seen = async () => {
      await page.goto(`${famos}/customer/diagnostics`);
      const { identity, headers } = JSON.parse((await page.locator("body").textContent())!) as { identity: { loginId: string }; headers: { cookie?: string } };
      return { loginId: identity.loginId, cookie: headers.cookie ?? null };
    };
    const held = async () => (await page.context().cookies()).filter((c) => c.name.startsWith("app_session")).map((c) => [c.name, c.value]);

    await signIn(page, a, "/customer");
    await page.goto(`${famos}/customer/remember?state=A-state`);
    expect(await seen()).toEqual({ loginId: "shared.browser.a", cookie: "app_session=A-state" });
    await page.goto(`${famos}/profile`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).count()).toBe(1);

    // Sign-out cannot clear it: Chromium holds A's cookie, under a name with A's tag, until B's sign-in completes.
    const ofA = await held();
    expect(ofA).toEqual([[expect.stringMatching(/^app_session\.[A-Za-z0-9_-]{12}$/), "A-state"]]);
    await page.context().addCookies([{ name: "lb_sticky", value: "1", url: famos }]);
    await signIn(page, b, "/customer");
    expect(await seen()).toEqual({ loginId: "shared.browser.b", cookie: null });
    expect(await held()).toEqual([]);
    await page.goto(`${famos}/customer/remember?state=B-state`);
    expect(await seen()).toEqual({ loginId: "shared.browser.b", cookie: "app_session=B-state" });
    const ofB = await held();
    expect(ofB).toEqual([[expect.stringMatching(/^app_session\.[A-Za-z0-9_-]{12}$/), "B-state"]]);
    expect(ofB[0]![0]).not.toBe(ofA[0]![0]);
    // An untagged cookie (a load balancer's) and FAMOS's own stay.
    expect((await page.context().cookies()).map((c) => c.name).sort()).toEqual([ofB[0]![0], "famos_csrf", "famos_device", "famos_section", "famos_session", "lb_sticky"]);
  });
});
