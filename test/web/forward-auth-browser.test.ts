import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { useBrowser } from "../support/browser-app.ts";
import { checkAccessibility, formatViolations, signInInBrowser } from "../support/browser.ts";
import { freePort, startNginx, type RunningNginx } from "../support/nginx.ts";
import type { SignInUser } from "../support/client.ts";
import { nginxForwardAuthConfig } from "./protected-nginx.ts";
import { closedPort, saveQuotationInBrowser, startExampleApp } from "./protected-support.ts";

/**
 * Forward authentication as deployed: the example application behind a real nginx (auth_request to a
 * listening FAMOS) on a sibling host, driven by Chromium. Host names under famos.test resolve to
 * loopback inside Chromium only (--host-resolver-rules), so FAMOS_COOKIE_DOMAIN works as it would on
 * famos.dealer.example and app.dealer.example. One Chromium serves both blocks of this file.
 */
const chromium = useBrowser({ args: ["--host-resolver-rules=MAP *.famos.test 127.0.0.1", "--no-proxy-server"] });

describe("forward authentication behind nginx, in Chromium", () => {
  let t: TestApp;
  let nginx: RunningNginx;
  let app: Awaited<ReturnType<typeof startExampleApp>>;
  let famos: string;
  let site: string;

  beforeAll(async () => {
    const famosPort = await freePort();
    const nginxPort = await freePort();
    famos = `http://login.famos.test:${famosPort}`;
    site = `http://app.famos.test:${nginxPort}`;
    app = await startExampleApp();
    t = await createTestApp({ env: { FAMOS_PUBLIC_URL: famos, FAMOS_COOKIE_DOMAIN: "famos.test", FAMOS_SESSION_IDLE: "30m" } });
    await t.app.listen({ host: "127.0.0.1", port: famosPort });
    nginx = await startNginx({
      httpConfig: nginxForwardAuthConfig({ listen: nginxPort, serverName: "app.famos.test", famos: `http://127.0.0.1:${famosPort}`, app: app.url }),
    });
  });
  afterAll(async () => {
    await nginx?.stop();
    await t?.close();
    await app?.stop();
  });

  const signIn = (page: Page, user: SignInUser) => signInInBrowser(page, t.mailbox, user);

  it("takes a protected URL through sign-in and the code back to that URL, with the application showing the user", async () => {
    const user = await addUser(t.deps, { loginId: "lukasz", fullName: "Łukasz Wiśniewski", partnerNumber: "00417" });
    const page = await chromium.newPage();
    const original = `${site}/quotation?customer=42&term=48`;
    await page.goto(original);
    expect(new URL(page.url()).host).toBe(new URL(famos).host);
    expect(new URL(page.url()).searchParams.get("returnTo")).toBe(original);
    await expect.poll(() => page.getByRole("button", { name: "Log in" }).count()).toBe(1);

    await signIn(page, user);
    // The 303 after the code goes to a sibling host: FAMOS's form-action allows it in Chromium.
    await expect.poll(() => page.url()).toBe(original);
    await expect.poll(() => page.locator("#signed-in-name").textContent()).toBe("Łukasz Wiśniewski");
    expect(await page.locator("#signed-in-login").textContent()).toBe("lukasz");

    // The application's own form posts back through nginx and echoes.
    await saveQuotationInBrowser(page, { customer: "Zoë O'Brien", vehicle: "Škoda Octavia", amount: "18500" });
  });

  it("delivers FAMOS's identity headers, not the client's, and not FAMOS's session cookie", async () => {
    const user = await addUser(t.deps, { loginId: "jsmith", fullName: "Jane Smith", role: "user" });
    const page = await chromium.newPage();
    await page.goto(`${site}/`);
    await signIn(page, user);
    await expect.poll(() => page.url()).toBe(`${site}/`);
    await page.context().addCookies([{ name: "theme", value: "dark", domain: "app.famos.test", path: "/" }]);
    await page.context().setExtraHTTPHeaders({ "X-Famos-Login-Id": "admin", "X-Famos-Role": "admin", "X-Famos-Name": "Mallory" });

    const response = await page.goto(`${site}/customer/diagnostics`);
    const seen = (await response!.json()) as { headers: Record<string, string>; identity: Record<string, string> };
    expect(seen.identity).toEqual({ loginId: "jsmith", name: "Jane Smith", partner: "01234", role: "user" });
    expect(seen.headers["x-famos-name"]).toBe("Jane%20Smith");
    expect(seen.headers.cookie).toBe("theme=dark");
  });

  it("refuses a session idle past FAMOS_SESSION_IDLE: back to sign in, then back to the page", async () => {
    const user = await addUser(t.deps);
    const page = await chromium.newPage();
    await page.goto(`${site}/vehicle`);
    await signIn(page, user);
    await expect.poll(() => page.url()).toBe(`${site}/vehicle`);

    t.clock.advance(30 * 60_000 + 1_000);
    await page.goto(`${site}/customer`);
    expect(new URL(page.url()).host).toBe(new URL(famos).host);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(new URL(page.url()).searchParams.get("returnTo")).toBe(`${site}/customer`);
    await signIn(page, user);
    await expect.poll(() => page.url()).toBe(`${site}/customer`);
  });

  it("follows /auth/traefik's redirect back to the application, and never returns to a foreign host", async () => {
    const user = await addUser(t.deps, { fullName: "Jane Smith" });
    // What Traefik's forwardAuth sends for a signed-out request to the application.
    const answer = await fetch(`${famos.replace("login.famos.test", "127.0.0.1")}/auth/traefik`, {
      redirect: "manual",
      headers: { "x-forwarded-proto": "http", "x-forwarded-host": new URL(site).host, "x-forwarded-uri": "/external-links?tab=2" },
    });
    expect(answer.status).toBe(302);
    const page = await chromium.newPage();
    await page.goto(answer.headers.get("location")!);
    await signIn(page, user);
    await expect.poll(() => page.url()).toBe(`${site}/external-links?tab=2`);
    await expect.poll(() => page.locator("#signed-in-name").textContent()).toBe("Jane Smith");

    const foreign = await fetch(`${famos.replace("login.famos.test", "127.0.0.1")}/auth/traefik`, {
      redirect: "manual",
      headers: { "x-forwarded-proto": "http", "x-forwarded-host": "evil.example", "x-forwarded-uri": "/" },
    });
    expect(foreign.status).toBe(403);

    // A sign-in link crafted to send the user elsewhere ends at the FAMOS portal instead.
    const other = await addUser(t.deps);
    const phished = await chromium.newPage();
    await phished.goto(`${famos}/login?returnTo=${encodeURIComponent("http://evil.example/steal")}`);
    await signIn(phished, other);
    await expect.poll(() => phished.url()).toBe(`${famos}/`);
  });
});

/** The reverse proxy in Chromium: back at the section after the code, the application's form works, the 502 page is accessible. */
describe("reverse proxy in Chromium", () => {
  let t: TestApp;
  let down: TestApp;
  let app: Awaited<ReturnType<typeof startExampleApp>>;

  beforeAll(async () => {
    app = await startExampleApp();
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: app.url } });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    down = await createTestApp({ env: { FAMOS_UPSTREAM_URL: `http://127.0.0.1:${await closedPort()}` } });
    await down.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await t?.close();
    await down?.close();
    await app?.stop();
  });

  const base = (x: TestApp) => {
    const address = x.app.server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  };

  const signIn = (x: TestApp, page: Page, user: SignInUser) => signInInBrowser(page, x.mailbox, user);

  it("signs in from a section, returns there, and the application's own form works under its own CSP", async () => {
    const user = await addUser(t.deps, { fullName: "Łukasz Nowak" });
    const page = await chromium.newPage();
    await page.goto(`${base(t)}/quotation`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await signIn(t, page, user);
    await expect.poll(() => page.url()).toBe(`${base(t)}/quotation`);
    await expect.poll(() => page.locator("#signed-in-name").textContent()).toBe("Łukasz Nowak");
    await saveQuotationInBrowser(page, { customer: "A & B Motors", vehicle: "Ford Focus", amount: "9999" });
  });

  it("shows an accessible page in the portal frame when the application is down", async () => {
    const user = await addUser(down.deps);
    const page = await chromium.newPage();
    await page.goto(`${base(down)}/login?returnTo=%2Fvehicle`);
    await signIn(down, page, user);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Application not available");
    const response = await page.reload();
    expect(response!.status()).toBe(502);
    const violations = await checkAccessibility(page);
    expect(violations, formatViolations(violations)).toEqual([]);
  });
});
