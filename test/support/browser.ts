import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type CDPSession, type Cookie, type LaunchOptions, type Page } from "playwright-core";
import { expect } from "vitest";
import type { SignInUser } from "./client.ts";
import { isCodeMail, type Mailbox } from "./mailbox.ts";
import { extractCode, type TestSmtpServer } from "./smtp.ts";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for Debian's Chromium on a machine without a display or outside network. Without the
 * background-networking ones Chromium keeps trying (and failing) to reach Google's hosts.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Playwright's timeout for each step of a browser test (an action, a navigation, a read of the page),
 * a third of the test's 30 s: a step that stalls fails naming the step and its locator, with the
 * browser's log, instead of the whole test timing out with nothing but "Test timed out".
 */
export const BROWSER_STEP_TIMEOUT_MS = 10_000;

/** Launches headless Debian Chromium through playwright-core (which brings no browser of its own). */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  try {
    return await chromium.launch({
      headless: true,
      ...options,
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `could not launch Chromium at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium): ${message}`,
      { cause: error },
    );
  }
}

export type Impact = "minor" | "moderate" | "serious" | "critical";

export interface AccessibilityViolation {
  /** axe rule id, e.g. "color-contrast", "label". */
  id: string;
  impact: "serious" | "critical";
  help: string;
  helpUrl: string;
  nodes: {
    /** CSS selector of the element (frames / shadow roots joined with " >>> "). */
    target: string;
    html: string;
    failureSummary: string;
  }[];
}

export interface AccessibilityOptions {
  /** Rule ids to leave out (say why where you use it). */
  disableRules?: string[];
  /** CSS selector of the part of the page to check (default: the whole document). */
  include?: string;
}

let axeSource: string | undefined;

function loadAxeSource(): string {
  if (axeSource === undefined) {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  }
  return axeSource;
}

const devTools = new WeakMap<Page, Promise<CDPSession>>();

/**
 * axe-core's source evaluated in the page's main world by the DevTools protocol's Runtime.evaluate
 * (one session per page, kept for its later documents): half the time of page.evaluate(source), which
 * hands the 550 kB through Playwright's utility script as an argument and evaluates it there, once for
 * each of the suite's hundred-odd axe checks (each document needs its own copy).
 */
async function injectAxe(page: Page): Promise<void> {
  let session = devTools.get(page);
  if (session === undefined) {
    session = page.context().newCDPSession(page);
    devTools.set(page, session);
  }
  const result = await (await session).send("Runtime.evaluate", { expression: loadAxeSource(), silent: true });
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === "object");
  if (!loaded) throw new Error(`axe-core did not load into ${page.url()}${result.exceptionDetails ? `: ${result.exceptionDetails.text}` : ""}`);
}

/**
 * Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page as it is now and returns the
 * serious and critical violations. axe is injected through the DevTools protocol (injectAxe), which a
 * page's Content-Security-Policy does not block, unlike a <script> tag.
 */
export async function checkAccessibility(page: Page, options: AccessibilityOptions = {}): Promise<AccessibilityViolation[]> {
  const present = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === "object");
  if (!present) await injectAxe(page);
  return page.evaluate(async ({ include, disableRules }) => {
    interface AxeNode {
      target: unknown[];
      html: string;
      failureSummary?: string;
    }
    interface AxeResult {
      id: string;
      impact?: string | null;
      help: string;
      helpUrl: string;
      nodes: AxeNode[];
    }
    interface Axe {
      run(context: unknown, options: unknown): Promise<{ violations: AxeResult[] }>;
    }
    const axe = (globalThis as unknown as { axe: Axe }).axe;
    const rules: Record<string, { enabled: boolean }> = {};
    for (const id of disableRules) rules[id] = { enabled: false };
    const results = await axe.run(include ?? document, { rules, resultTypes: ["violations"] });
    const selector = (target: unknown): string =>
      Array.isArray(target) ? target.map(selector).join(" >>> ") : String(target);
    return results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact as "serious" | "critical",
        help: violation.help,
        helpUrl: violation.helpUrl,
        nodes: violation.nodes.map((node) => ({
          target: selector(node.target),
          html: node.html,
          failureSummary: node.failureSummary ?? "",
        })),
      }));
  }, { include: options.include ?? null, disableRules: options.disableRules ?? [] });
}

/** A readable list of violations, for assertion messages: `expect(v, formatViolations(v)).toEqual([])`. */
export function formatViolations(violations: AccessibilityViolation[]): string {
  if (violations.length === 0) return "no serious or critical accessibility violations";
  return violations
    .map(
      (violation) =>
        `[${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n` +
        violation.nodes.map((node) => `    ${node.target}  ${node.html}\n      ${node.failureSummary.replace(/\n/g, "\n      ")}`).join("\n"),
    )
    .join("\n");
}

/** Asserts a page has no serious or critical axe violations, listing them when it has. */
export async function expectAccessible(page: Page): Promise<void> {
  const violations = await checkAccessibility(page);
  if (violations.length > 0) throw new Error(`accessibility violations on ${page.url()}:\n${formatViolations(violations)}`);
}

/**
 * Presses `key` where the keyboard's focus is (a form's button, a field whose Enter submits, a link)
 * and waits until the page it leads to has loaded. page.keyboard.press, unlike a locator's press or
 * click, does not wait for the navigation it starts: a poll begun at once read the old page for its
 * whole second while the server was still answering (a password's argon2id on a busy machine).
 */
export async function pressToNavigate(page: Page, key = "Enter"): Promise<void> {
  const next = nextPage(page);
  await page.keyboard.press(key);
  await next;
}

/**
 * Resolves once the page's next document has loaded: asked for before a step whose navigation comes
 * later than the step itself (a key press, a form the page's script submits after a passkey
 * ceremony), which the step's own call does not wait for. Within the step timeout.
 */
export async function nextPage(page: Page): Promise<void> {
  await page.waitForEvent("framenavigated", { predicate: (frame) => frame === page.mainFrame() });
  await page.waitForLoadState("load");
}

/** Presses Tab until the element matching `selector` has the focus (keyboard only), then `key`, and waits for the page it leads to. */
export async function tabTo(page: Page, selector: string, key = "Enter"): Promise<void> {
  for (let i = 0; i < 40; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return pressToNavigate(page, key);
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

/**
 * Resolves once the page's autofocus field, if it has one, has the focus. Chromium moves the focus
 * there at a rendering step of its own, which on a busy machine can come after the load event: keys
 * typed at once went to the page, not the field (staff-walk in CI: the password step answered 401).
 * A person waits for the cursor; so does a test that types by keyboard, or reads where the cursor is.
 */
export async function autofocusSettled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const field = document.querySelector("[autofocus]");
    return field === null || document.activeElement === field;
  });
}

/** The id of the field holding the cursor, once the page's autofocus has taken it (autofocusSettled). */
export async function focusedId(page: Page): Promise<string> {
  await autofocusSettled(page);
  return page.evaluate(() => document.activeElement?.id ?? "");
}

/**
 * The field the cursor is in, whether it is marked invalid, and the words that describe it to a screen
 * reader (its aria-describedby, read in order): what WCAG 3.3.1 asks of a refused form.
 */
export const cursorState = (page: Page) =>
  page.evaluate(() => {
    const field = document.activeElement as HTMLElement;
    const describedBy = (field.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean).map((id) => document.getElementById(id)?.textContent);
    return { field: field.id, invalid: field.getAttribute("aria-invalid"), describedBy };
  });

/** The page's one h1, for polling which screen a browser is on. */
export const heading = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();

/** The code of the first passcode mail to `email` among the messages from index `before` on. */
export async function mailedCode(smtp: TestSmtpServer, email: string, before: number): Promise<string> {
  const mail = await smtp.waitForMessage((m) => m.envelopeTo.includes(email) && smtp.messages.indexOf(m) >= before && isCodeMail(m.subject));
  return extractCode(mail.text);
}

/** The password step by keyboard alone, in any language: the login ID where the cursor starts, Tab, the password, Enter. */
export async function logInByKeyboard(page: Page, base: string, user: { login_id: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  await autofocusSettled(page);
  await page.keyboard.type(user.login_id);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await pressToNavigate(page);
}

/** The password step in a browser: "Login ID", "Password", "Log in" on `${base}/login`. */
export async function logIn(page: Page, base: string, user: { login_id: string; password: string }): Promise<void> {
  await page.goto(`${base}/login`);
  await fillPasswordStep(page, user);
}

/**
 * The one browser sign-in of the tests: "Log in" on the page the browser is on (or at `from`), then
 * the mailed code on "OTP capture", as a person types them. Returns after Confirm is clicked.
 */
export async function signInInBrowser(page: Page, mailbox: Mailbox, user: SignInUser, from?: string): Promise<void> {
  const mark = await mailbox.mark();
  if (from) await page.goto(from);
  await fillPasswordStep(page, user);
  await expect.poll(() => heading(page)).toBe("OTP capture");
  await page.getByLabel("Please enter the received code").fill(await mailbox.code(user.otp_email!, mark));
  await page.getByRole("button", { name: "Confirm" }).click();
}

/**
 * One sign-in shared by the tests of a block that only read as the person (a refused form, a page's
 * words): the first call runs `signIn` on its page, each later one gives its page (a browser context
 * of its own) that session's cookies and opens `${base}/`, signed in. A browser sign-in costs an
 * argon2id verification, a code mail and four page loads, and is not what these tests look at; a test
 * that changes the person (their language, role, password) signs in a person of its own instead.
 */
export function sharedSignIn<U>(base: () => string, signIn: (page: Page) => Promise<U>): (page: Page) => Promise<U> {
  let saved: { who: U; cookies: Cookie[] } | undefined;
  return async (page) => {
    if (saved) {
      await page.context().addCookies(saved.cookies);
      await page.goto(`${base()}/`);
      expect(await page.getByRole("button", { name: "Sign out" }).count(), "the shared session is still signed in").toBe(1);
      return saved.who;
    }
    const who = await signIn(page);
    saved = { who, cookies: await page.context().cookies() };
    return who;
  };
}

async function fillPasswordStep(page: Page, user: { login_id: string; password: string }): Promise<void> {
  await page.getByLabel("Login ID").fill(user.login_id);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
}
