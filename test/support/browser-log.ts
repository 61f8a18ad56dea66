import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { BrowserContext, Logger, Page, Request } from "playwright-core";

/**
 * What a browser test's pages and the app's server did, in order, with the milliseconds since the
 * test began: each page's navigations and loads, each request and how it ended (as Chromium saw it),
 * each request the server received and answered, and each Playwright call made on the contexts
 * and how it ended. Printed when a test fails, so a step that waited for something shows what it
 * waited for: a request the server never answered, a navigation that never committed, a page that
 * crashed; and a call that never returned names itself, even one Playwright sets no timeout for
 * (page.close, page.evaluate, locator.count), which otherwise ends only in "Test timed out".
 */
export class BrowserLog {
  #start = Date.now();
  #lines: string[] = [];
  #pages = new Map<Page, string>();
  #open = new Map<Request, string>();
  #serverOpen = new Map<IncomingMessage, string>();
  #calls: string[] = [];

  /** Starts a new test's log. */
  reset(): void {
    this.#start = Date.now();
    this.#lines = [];
    this.#pages.clear();
    this.#open.clear();
    this.#serverOpen.clear();
    this.#calls = [];
  }

  /**
   * For a context's `logger` option: Playwright's "api" log, a line as each call starts ("=>
   * locator.fill started") and ends ("<= locator.fill succeeded"), with what it waited for meanwhile.
   */
  readonly logger: Logger = {
    isEnabled: (name) => name === "api",
    log: (_name, _severity, message) => {
      const text = String(message);
      this.#add(`playwright ${text}`);
      const started = /^=> (\S+) started/.exec(text);
      if (started) this.#calls.push(started[1]!);
      const ended = /^<= (\S+) /.exec(text);
      if (ended) {
        const at = this.#calls.lastIndexOf(ended[1]!);
        if (at >= 0) this.#calls.splice(at, 1);
      }
    },
  };

  #add(line: string): void {
    this.#lines.push(`${String(Date.now() - this.#start).padStart(6)} ms  ${line}`);
  }

  #page(page: Page | null): string {
    if (page === null) return "(no page)";
    let name = this.#pages.get(page);
    if (name === undefined) {
      name = `page ${this.#pages.size + 1}`;
      this.#pages.set(page, name);
      this.#add(`${name} opened`);
      page.on("framenavigated", (frame) => {
        if (frame === page.mainFrame()) this.#add(`${name} navigated to ${frame.url()}`);
      });
      page.on("domcontentloaded", () => this.#add(`${name} DOMContentLoaded ${page.url()}`));
      page.on("load", () => this.#add(`${name} load ${page.url()}`));
      page.on("pageerror", (error) => this.#add(`${name} script error: ${error.message}`));
      page.on("crash", () => this.#add(`${name} CRASHED`));
      page.on("close", () => this.#add(`${name} closed`));
    }
    return name;
  }

  /** Records a context's pages and requests. */
  watch(context: BrowserContext): void {
    context.on("page", (page) => this.#page(page));
    const describe = (request: Request) => {
      let page: Page | null = null;
      try {
        page = request.frame().page();
      } catch {
        // A service worker's request has no frame.
      }
      return `${this.#page(page)} ${request.method()} ${request.url()}${request.isNavigationRequest() ? " (navigation)" : ""}`;
    };
    context.on("request", (request) => {
      const what = describe(request);
      this.#open.set(request, what);
      this.#add(`${what} sent`);
    });
    context.on("response", (response) => this.#add(`${describe(response.request())} answered ${response.status()}`));
    context.on("requestfinished", (request) => this.#open.delete(request));
    context.on("requestfailed", (request) => {
      this.#open.delete(request);
      this.#add(`${describe(request)} failed: ${request.failure()?.errorText ?? "?"}`);
    });
  }

  /** Records the requests a server receives and answers (or the connection closing first). */
  watchServer(server: Server): void {
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      const what = `server ${request.method} ${request.url}`;
      this.#serverOpen.set(request, what);
      this.#add(`${what} received`);
      response.on("finish", () => {
        this.#serverOpen.delete(request);
        this.#add(`${what} answered ${response.statusCode}`);
      });
      response.on("close", () => {
        if (this.#serverOpen.delete(request)) this.#add(`${what} connection closed before the answer`);
      });
    });
  }

  /** The log, and what was still waiting for an answer when it was read. */
  toString(): string {
    const waiting = [...this.#open.values(), ...this.#serverOpen.values()].map((what) => `  still waiting: ${what}`);
    const running = this.#calls.map((call) => `  still running: ${call}`);
    return [...this.#lines, ...waiting, ...running].join("\n");
  }
}
