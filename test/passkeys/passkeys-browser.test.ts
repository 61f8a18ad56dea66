import type { CDPSession, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { listPasskeys } from "../../src/passkeys/passkeys.ts";
import { addUser } from "../support/app.ts";
import { useBrowserApp } from "../support/browser-app.ts";
import { expectAccessible, heading, logIn, nextPage, signInInBrowser } from "../support/browser.ts";

/** A walk of several screens with axe on each: slow on the shared 2-core machine. */
const BROWSER_WALK_MS = 120_000;

/** Chromium's virtual authenticator (DevTools Protocol, WebAuthn domain): a platform passkey with user verification. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

/**
 * Issue 13 in a real Chromium: "Add a passkey" on Profile, then password + "Use a passkey instead"
 * on OTP capture; removal; the page without JavaScript; axe on every new screen. http://localhost
 * is a secure context, and FAMOS_PUBLIC_URL names it, so the RP ID is "localhost".
 */
describe("passkeys in a browser", () => {
  const f = useBrowserApp({ publicUrl: (port) => `http://localhost:${port}` });

  it("adds a passkey on Profile, signs out, signs in with password + passkey, removes it", async () => {
    const user = await addUser(f.t.deps, { email: "pat.key@dealer.example" });
    const page = await f.newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(page);

    await page.goto(`${f.base}/login`);
    await signInInBrowser(page, f.t.mailbox, user);
    await expect.poll(() => page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    await page.goto(`${f.base}/profile`);
    await expect.poll(() => page.getByRole("heading", { name: "Passkeys" }).count()).toBe(1);
    await expectAccessible(page);
    await page.getByLabel("Name for the passkey").fill("Work laptop");
    // The page's script runs the ceremony, then submits: the click does not wait for that page.
    const added = nextPage(page);
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await added;
    await expect.poll(() => page.textContent("main")).toContain("The passkey was added.");
    // The first strong factor brings the recovery codes, shown once; then back to Profile.
    expect(await page.getByRole("heading", { name: "Save your recovery codes" }).count()).toBe(1);
    await expectAccessible(page);
    await page.getByRole("link", { name: "I have kept my recovery codes" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Passkeys" }).count()).toBe(1);
    expect(await page.getByRole("cell", { name: "Work laptop", exact: true }).count()).toBe(1);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    const [stored] = await listPasskeys(f.t.deps.db, user.id);
    expect(stored!.name).toBe("Work laptop");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).count()).toBe(1);
    await logIn(page, f.base, user);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await expectAccessible(page);
    const signedIn = nextPage(page);
    await page.getByRole("button", { name: "Use a passkey instead" }).click();
    await signedIn;
    await expect.poll(() => page.getByRole("navigation", { name: "FAMOS sections" }).count()).toBe(1);
    const [used] = await listPasskeys(f.t.deps.db, user.id);
    expect(used!.lastUsedAt).not.toBeNull();
    const audit = await f.t.deps.db.selectFrom("audit").select("event").where("subject", "=", user.login_id).execute();
    expect(audit.map((a) => a.event)).toEqual(expect.arrayContaining(["passkey.added", "passkey.confirmed"]));

    // Signed in by the passkey a moment ago: Remove needs no password.
    await page.goto(`${f.base}/profile`);
    await page.getByRole("button", { name: 'Remove the passkey "Work laptop"' }).click();
    await expect.poll(() => page.textContent("main")).toContain("The passkey was removed.");
    expect(await listPasskeys(f.t.deps.db, user.id)).toEqual([]);
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn(page, f.base, user);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    expect(await page.getByRole("button", { name: "Use a passkey instead" }).count()).toBe(0);
  }, BROWSER_WALK_MS);

  it("a removed passkey no longer works, even when the browser still holds it and offers it", async () => {
    const user = await addUser(f.t.deps, { email: "kim.key@dealer.example" });
    const page = await f.newPage();
    await virtualAuthenticator(page);
    await signInInBrowser(page, f.t.mailbox, user, `${f.base}/login`);
    await page.goto(`${f.base}/profile`);
    await page.getByLabel("Name for the passkey").fill("Old key");
    // The page's script runs the ceremony, then submits: the click does not wait for that page.
    const added = nextPage(page);
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await added;
    await expect.poll(() => page.textContent("main")).toContain("The passkey was added.");
    await page.getByRole("link", { name: "I have kept my recovery codes" }).click();
    await page.getByRole("button", { name: 'Remove the passkey "Old key"' }).click();
    await expect.poll(() => page.textContent("main")).toContain("The passkey was removed.");
    // Another passkey of the user's (on another device), so OTP capture still offers the choice.
    await f.t.deps.db
      .insertInto("passkeys")
      .values({ id: "other-device", user_id: user.id, credential_id: "b3RoZXI", public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Phone", created_at: f.t.clock.now(), last_used_at: null })
      .execute();

    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn(page, f.base, user);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    // A browser that ignores allowCredentials: the authenticator answers with the removed passkey it still holds.
    await page.route("**/otp/passkey/options", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { options: { allowCredentials?: unknown[] } };
      body.options.allowCredentials = [];
      await route.fulfill({ response, json: body });
    });
    const refused = nextPage(page);
    await page.getByRole("button", { name: "Use a passkey instead" }).click();
    await refused;
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("The passkey did not confirm your sign-in.");
    expect(await heading(page)).toBe("OTP capture");
    const failed = await f.t.deps.db.selectFrom("audit").select(["event", "detail"]).where("subject", "=", user.login_id).where("event", "=", "passkey.failed").execute();
    expect(failed.map((f) => f.detail)).toEqual([expect.stringContaining("unknown-passkey")]);
  }, BROWSER_WALK_MS);

  it("without JavaScript, OTP capture says that passkeys need it", async () => {
    const user = await addUser(f.t.deps, { email: "no.script@dealer.example" });
    await f.t.deps.db
      .insertInto("passkeys")
      .values({ id: "nojs-1", user_id: user.id, credential_id: "bm9qcw", public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Key", created_at: f.t.clock.now(), last_used_at: null })
      .execute();
    const context = await f.browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await logIn(page, f.base, user);
    await expect.poll(() => heading(page)).toBe("OTP capture");
    expect(await page.textContent("main")).toContain("Your browser needs JavaScript turned on to use passkeys.");
    await page.getByRole("button", { name: "Use a passkey instead" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("needs JavaScript");
    await expect.poll(() => heading(page)).toBe("OTP capture");
    await context.close();
  });
});
