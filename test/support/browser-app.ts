import type { Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { createTestApp, listen, type TestApp, type TestAppOptions } from "./app.ts";
import { launchBrowser } from "./browser.ts";

export interface BrowserApp {
  t: TestApp;
  browser: Browser;
  /** The app's loopback URL. */
  base: string;
}

/** A test app listening on loopback and a Chromium, set up before the describe block's tests and closed after. */
export function browserApp(options: TestAppOptions = {}): BrowserApp {
  const fixture = {} as BrowserApp;
  beforeAll(async () => {
    fixture.t = await createTestApp(options);
    fixture.base = await listen(fixture.t);
    fixture.browser = await launchBrowser();
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.t?.close();
  });
  return fixture;
}
