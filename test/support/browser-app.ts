import type { Browser, BrowserContext, BrowserContextOptions, LaunchOptions, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { createTestApp, listen, type TestApp, type TestAppOptions } from "./app.ts";
import { BROWSER_STEP_TIMEOUT_MS, launchBrowser } from "./browser.ts";
import { BrowserLog } from "./browser-log.ts";
import { freePort } from "./nginx.ts";

export interface BrowserFixture {
  /** The worker's Chromium (workerBrowser): a launch costs seconds of CPU on the 2-core machine. */
  browser: Browser;
  /**
   * A page in a browser context of its own (its own cookies, locale, viewport), as a new person at a
   * new browser: closed after the test, passed or failed, so no test sees another's session.
   */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** What this test's pages (from newPage) and the app's server did; printed when the test fails. */
  log: BrowserLog;
}

/**
 * One Chromium per worker process and set of launch flags, shared by the browser test files the
 * worker runs one after another (vitest.config.ts `isolate: false` keeps this module loaded between
 * them): a launch costs about 1.5 s of CPU on the 2-core machine, and the suite's 30-odd browser
 * blocks launched one each. What a test sees of the browser is its own: every page comes from a
 * browser context of its own (newPage), with its own cookies, storage and cache, closed after the
 * test. A browser that crashed or was closed is launched again for the next block; Playwright ends
 * the launched browser when the worker process exits.
 */
const workerBrowsers = new Map<string, Promise<Browser>>();
function workerBrowser(launch: LaunchOptions): Promise<Browser> {
  const key = JSON.stringify(launch);
  let browser = workerBrowsers.get(key);
  if (browser === undefined) {
    const launching = launchBrowser(launch);
    workerBrowsers.set(key, launching);
    const forget = () => {
      if (workerBrowsers.get(key) === launching) workerBrowsers.delete(key);
    };
    launching.then((launched) => launched.on("disconnected", forget), forget);
    browser = launching;
  }
  return browser;
}

/**
 * The browser tests' Chromium (the worker's, see workerBrowser), for the tests of the describe block
 * (or file) that calls this; contexts opened through newPage() are closed after each test.
 */
export function useBrowser(launch: LaunchOptions = {}): BrowserFixture {
  const fixture = browserFixture();
  beforeAll(async () => {
    fixture.browser = await workerBrowser(launch);
  });
  return fixture;
}

/** The fixture's newPage() and the hook that closes its contexts after each test; the browser comes later. */
function browserFixture(): BrowserFixture {
  const contexts: BrowserContext[] = [];
  const fixture: BrowserFixture = {
    browser: undefined as unknown as Browser,
    log: new BrowserLog(),
    async newPage(options) {
      const context = await fixture.browser.newContext({ ...options, logger: fixture.log.logger });
      contexts.push(context);
      // A step that waits longer than this fails naming itself and its locator, well before the
      // test's own timeout would fail the test with nothing but "Test timed out".
      context.setDefaultTimeout(BROWSER_STEP_TIMEOUT_MS);
      fixture.log.watch(context);
      return context.newPage();
    },
  };
  beforeEach(() => fixture.log.reset());
  afterEach(async ({ task }) => {
    if (task.result?.state === "fail") console.error(`what the browser and the server did in "${task.name}":\n${fixture.log.toString()}`);
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  return fixture;
}

export interface BrowserAppOptions extends TestAppOptions {
  /** Chromium flags on top of CHROMIUM_ARGS (e.g. --host-resolver-rules). */
  browserArgs?: string[];
  /**
   * The address the browser uses, from the port the app will listen on: set as FAMOS_PUBLIC_URL (a
   * passkey's RP ID, a cookie domain). Without it, `base` is http://127.0.0.1:<port>.
   */
  publicUrl?: (port: number) => string;
}

export interface BrowserApp extends BrowserFixture {
  /** The app: real SQLite (or PostgreSQL), SMTP and a fixed clock (see createTestApp). */
  t: TestApp;
  /** The app's URL as the browser reaches it. */
  base: string;
}

/**
 * A FAMOS listening on loopback and a Chromium, started together before the block's tests and closed
 * after them: the setup every browser test file had written out for itself.
 */
export function useBrowserApp(options: BrowserAppOptions = {}): BrowserApp {
  const { browserArgs, publicUrl, ...appOptions } = options;
  const fixture = browserFixture() as BrowserApp;
  beforeAll(async () => {
    // Chromium starts (when the worker has none with these flags yet) while the app migrates its database.
    const browser = workerBrowser(browserArgs ? { args: browserArgs } : {});
    browser.catch(() => undefined); // its failure is thrown below, not reported as unhandled meanwhile
    try {
      if (publicUrl) {
        const port = await freePort();
        fixture.base = publicUrl(port);
        fixture.t = await createTestApp({ ...appOptions, env: { FAMOS_PUBLIC_URL: fixture.base, ...appOptions.env } });
        await fixture.t.app.listen({ host: "127.0.0.1", port });
      } else {
        fixture.t = await createTestApp(appOptions);
        fixture.base = await listen(fixture.t);
      }
      fixture.log.watchServer(fixture.t.app.server);
    } finally {
      // Kept even when the app failed to start, so afterAll closes it.
      fixture.browser = await browser;
    }
  });
  afterAll(async () => {
    await fixture.t?.close();
  });
  return fixture;
}
