/**
 * An example of the application FAMOS 2FA protects: it knows nothing about passwords or codes and
 * trusts the identity headers of the proxy in front of it (FAMOS itself, or nginx / Traefik asking
 * FAMOS). Plain node:http, no dependencies, so it reads like the legacy application it stands for.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export const SECTIONS = [
  { label: "Quotation", path: "/quotation" },
  { label: "Vehicle", path: "/vehicle" },
  { label: "Customer", path: "/customer" },
  { label: "Customer Assistant", path: "/customer-assistant" },
  { label: "External Links", path: "/external-links" },
];

export interface Identity {
  loginId: string;
  name: string;
  partner: string;
  role: string;
}

/**
 * The signed-in user from X-Famos-Login-Id, -Name, -Partner and -Role: percent-encoded UTF-8, so
 * "%C5%81ukasz" is "Łukasz". Null when the request did not come through FAMOS.
 */
export function identityFrom(request: IncomingMessage): Identity | null {
  const read = (name: string): string | null => {
    const value = request.headers[name];
    if (typeof value !== "string" || value === "") return null;
    try {
      return decodeURIComponent(value);
    } catch {
      return null;
    }
  };
  const loginId = read("x-famos-login-id");
  if (loginId === null) return null;
  return { loginId, name: read("x-famos-name") ?? loginId, partner: read("x-famos-partner") ?? "", role: read("x-famos-role") ?? "user" };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The application's own headers: FAMOS must pass them on as they are. */
const APP_HEADERS = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'",
  "cache-control": "private, no-cache",
  "x-content-type-options": "nosniff",
  "x-example-app": "protected-app",
};

export function createProtectedApp(): Server {
  // The application's own form tokens (it does not rely on FAMOS for CSRF): an HMAC of the user.
  const secret = randomBytes(32);
  const formToken = (who: Identity) => createHmac("sha256", secret).update(who.loginId).digest("base64url");
  const tokenMatches = (who: Identity, token: string | undefined) => {
    const expected = Buffer.from(formToken(who));
    const given = Buffer.from(token ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  return createServer((request, response) => {
    handle(request, response, formToken, tokenMatches).catch(() => {
      if (!response.headersSent) send(response, 500, page("Error", "<h1>Something went wrong</h1>"));
      else response.destroy();
    });
  });
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  formToken: (who: Identity) => string,
  tokenMatches: (who: Identity, token: string | undefined) => boolean,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://app.invalid");
  const who = identityFrom(request);
  if (!who) {
    send(response, 401, page("Sign in first", "<h1>Sign in first</h1><p>This application is reached through FAMOS sign-in only.</p>"));
    return;
  }
  // What arrived, for the README walk-through and the tests: method, path, headers and body as received.
  if (url.pathname.endsWith("/diagnostics")) {
    const body = await readBody(request);
    response.writeHead(200, { ...APP_HEADERS, "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body: body.toString("utf8"), identity: who }));
    return;
  }
  if (url.pathname === "/quotation" && request.method === "POST") {
    const form = new URLSearchParams((await readBody(request)).toString("utf8"));
    if (!tokenMatches(who, form.get("app_token") ?? undefined)) {
      send(response, 403, page("Form expired", "<h1>Form expired</h1><p>Reload the quotation page and try again.</p>", who));
      return;
    }
    const field = (name: string) => escape(form.get(name) ?? "");
    send(
      response,
      200,
      page(
        "Quotation",
        `<h1>Quotation saved</h1>
<p role="status">Quotation for <strong>${field("customer")}</strong>: ${field("vehicle")}, £${field("amount")} over ${field("term")} months.</p>
<p>Prepared by ${escape(who.name)} (partner ${escape(who.partner)}).</p>
<p><a href="/quotation">New quotation</a></p>`,
        who,
      ),
    );
    return;
  }
  const section = SECTIONS.find((s) => url.pathname === s.path || url.pathname === `${s.path}/`);
  if (request.method !== "GET" && request.method !== "HEAD") {
    send(response, 405, page("Not allowed", "<h1>Not allowed</h1>", who));
    return;
  }
  if (url.pathname === "/" || section) {
    const title = section?.label ?? "FAMOS application";
    const form =
      section?.path === "/quotation"
        ? `<form method="post" action="/quotation">
<input type="hidden" name="app_token" value="${formToken(who)}">
<p><label for="customer">Customer name</label> <input id="customer" name="customer" required></p>
<p><label for="vehicle">Vehicle</label> <input id="vehicle" name="vehicle" required></p>
<p><label for="amount">Amount to finance (£)</label> <input id="amount" name="amount" inputmode="decimal" required></p>
<p><label for="term">Term (months)</label> <input id="term" name="term" inputmode="numeric" value="48" required></p>
<p><button type="submit">Save quotation</button></p>
</form>`
        : "<p>This section of the example application has no content yet.</p>";
    send(response, 200, page(title, `<h1>${escape(title)}</h1>\n${form}`, who));
    return;
  }
  send(response, 404, page("Not found", "<h1>Not found</h1>", who));
}

function page(title: string, body: string, who?: Identity): string {
  const nav = SECTIONS.map((s) => `<li><a href="${s.path}">${s.label}</a></li>`).join("");
  const user = who
    ? `<p class="who">Signed in as <strong id="signed-in-name">${escape(who.name)}</strong> (login ID <span id="signed-in-login">${escape(who.loginId)}</span>, partner ${escape(who.partner)}, role ${escape(who.role)})</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} – example application</title>
<style>body{font-family:sans-serif;margin:0 2rem}nav ul{display:flex;gap:1rem;list-style:none;padding:0}.who{background:#eef;padding:.5rem}</style>
</head><body>
<header>${user}<nav aria-label="Sections"><ul>${nav}</ul></nav></header>
<main>${body}</main>
</body></html>`;
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { ...APP_HEADERS, "content-type": "text/html; charset=utf-8" });
  response.end(body);
}

function readBody(request: IncomingMessage, limit = 64 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new Error("body too large"));
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}
