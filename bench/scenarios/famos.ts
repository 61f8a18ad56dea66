/**
 * The product's flow for the driver, as a browser does it (cookies kept, form posts, Origin sent):
 *   GET  /login                         → 200, form with <input type="hidden" name="_csrf" value="…">
 *   POST /login loginId,password,_csrf  → 303 Location /otp       (this request makes the code be sent)
 *   GET  /otp                           → 200, "OTP capture" form with a fresh _csrf
 *   (the newest code for <login>@bench.test read from the SMTP sink)
 *   POST /otp code,_csrf                → 303 Location /
 *   GET  /profile                       → 200, shows the login ID
 * "code→smtp" is measured from the start of POST /login (the request that triggers the mail; it includes
 * the password check) to the sink's acceptance of the message.
 *
 * The server and its users are set up by ./famos-target.ts.
 */
import { expectStatus, locationPath, type HttpResponse } from "../lib/http.ts";
import { readCodeStep } from "../lib/read-code-step.ts";
import { FlowError, type Step } from "../lib/types.ts";

export const description = "FAMOS 2FA: login form → email OTP → profile";

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The value of the hidden `_csrf` input, whatever the attribute order and quoting. */
export function csrfToken(html: string): string | undefined {
  for (const tag of html.match(/<input\b[^>]*>/gi) ?? []) {
    if (!/\bname\s*=\s*["']?_csrf["'\s/>]/i.test(tag)) continue;
    const m = /\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    if (m) return decodeEntities(m[1] ?? m[2] ?? m[3] ?? "");
  }
  return undefined;
}

function needCsrf(res: HttpResponse, page: string): string {
  const token = csrfToken(res.text);
  if (token === undefined) throw new FlowError(`${page}: no _csrf field in the form`);
  return token;
}

function expectRedirect(res: HttpResponse, to: string, what: string): void {
  expectStatus(res, 303, what);
  const path = locationPath(res);
  if (path !== to) throw new FlowError(`${what}: redirected to ${res.location ?? "nowhere"} (expected ${to})`);
}

export const steps: Step[] = [
  {
    name: "GET /login",
    async run(ctx) {
      const res = await ctx.http.get("/login");
      expectStatus(res, 200, "GET /login");
      ctx.state.csrf = needCsrf(res, "GET /login");
    },
  },
  {
    name: "POST /login (password)",
    role: "password",
    async run(ctx) {
      ctx.state.codeRequestedAt = ctx.now();
      const res = await ctx.http.post("/login", {
        form: { loginId: ctx.user.login, password: ctx.user.password, _csrf: ctx.state.csrf as string },
      });
      expectRedirect(res, "/otp", "POST /login");
    },
  },
  {
    name: "GET /otp",
    async run(ctx) {
      const res = await ctx.http.get("/otp");
      expectStatus(res, 200, "GET /otp");
      ctx.state.csrf = needCsrf(res, "GET /otp");
    },
  },
  readCodeStep,
  {
    name: "POST /otp (code)",
    role: "confirm",
    async run(ctx) {
      const res = await ctx.http.post("/otp", { form: { code: ctx.state.code as string, _csrf: ctx.state.csrf as string } });
      expectRedirect(res, "/", "POST /otp");
    },
  },
  {
    name: "GET /profile",
    async run(ctx) {
      const res = await ctx.http.get("/profile");
      expectStatus(res, 200, "GET /profile");
      if (!res.text.includes(ctx.user.login)) throw new FlowError("GET /profile: the login ID is not on the page");
    },
  },
];
