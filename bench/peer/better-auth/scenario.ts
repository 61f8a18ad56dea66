/**
 * The peer's flow for the driver, through better-auth's own JSON endpoints as its client library calls
 * them (browser-like: cookies kept, Origin sent on POSTs):
 *   POST /api/auth/sign-in/email {email,password}  → 200 {twoFactorRedirect:true}, two_factor cookie
 *   POST /api/auth/two-factor/send-otp {}          → 200 {status:true} (sent once the mail is accepted)
 *   (the code read from the SMTP sink)
 *   POST /api/auth/two-factor/verify-otp {code}    → 200 {token,user}, session cookie
 *   GET  /api/auth/get-session                     → 200 {session,user}
 * "code→smtp" is measured from the start of the send-otp request to the sink's acceptance of the mail.
 */
import { expectStatus } from "../../lib/http.ts";
import { readCodeStep } from "../../lib/read-code-step.ts";
import { FlowError, type Step } from "../../lib/types.ts";

export const description = "better-auth 1.x, twoFactor OTP by email, argon2id, SQLite WAL";

const BASE = "/api/auth";

export const steps: Step[] = [
  {
    name: "sign-in (password)",
    role: "password",
    async run(ctx) {
      const res = await ctx.http.post(`${BASE}/sign-in/email`, { json: { email: ctx.user.login, password: ctx.user.password } });
      expectStatus(res, 200, "sign-in");
      if (!res.text.includes('"twoFactorRedirect":true')) throw new FlowError(`sign-in: no 2FA redirect: ${res.text.slice(0, 120)}`);
    },
  },
  {
    name: "send-otp",
    async run(ctx) {
      ctx.state.codeRequestedAt = ctx.now();
      const res = await ctx.http.post(`${BASE}/two-factor/send-otp`, { json: {} });
      expectStatus(res, 200, "send-otp");
    },
  },
  readCodeStep,
  {
    name: "verify-otp (code)",
    role: "confirm",
    async run(ctx) {
      const res = await ctx.http.post(`${BASE}/two-factor/verify-otp`, { json: { code: ctx.state.code } });
      expectStatus(res, 200, "verify-otp");
    },
  },
  {
    name: "get-session",
    async run(ctx) {
      const res = await ctx.http.get(`${BASE}/get-session`);
      expectStatus(res, 200, "get-session");
      if (!res.text.includes(`"email":"${ctx.user.email}"`)) throw new FlowError(`get-session: not signed in: ${res.text.slice(0, 120)}`);
    },
  },
];
