import type { LightMyRequestResponse } from "fastify";
import { generate } from "otplib";
import { setWaveStart } from "../../src/rollout/plan.ts";
import { issueRecoveryCodes } from "../../src/strong-factors/recovery-codes.ts";
import { addUser, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";
import { formStampOf } from "../support/temporary-password-form.ts";
import { atChoosePassword, atCode, atEnrolment, formsPostingTo, type TestUser } from "./helpers.ts";

export type Stage = "anonymous" | "enrol" | "otp" | "full" | "password" | "factor-setup";

/** One form handler of the app: a state-changing route, the step it belongs to and the fields its form sends. */
export interface FormRoute {
  method: string;
  pattern: string;
  stage: Stage;
  fields: string[];
  /** How many forms on the pages read post to this route (0: its fields are unknown, a gap in the surface). */
  forms: number;
  /** The address a form on a page posts to (parameters as the page has them), or the pattern filled with the target's id. */
  action: string;
}

const STAGE_PAGE: Record<Stage, string> = { anonymous: "/login", enrol: "/enrol", otp: "/otp", full: "/profile", password: "/choose-password", "factor-setup": "/factor-setup" };
/** Issue 13: further pages of a step whose forms post elsewhere (the other factors; the app setup). */
const STAGE_EXTRA_PAGES: Partial<Record<Stage, string[]>> = { otp: ["/otp/app", "/otp/recovery"], "factor-setup": ["/factor-setup/app"] };

/**
 * Every state-changing route of the app (enumerated from Fastify, so new forms are covered without
 * editing this), each with a client at the step the route serves: anonymous, at "User profile", at
 * "OTP capture", or fully signed in as an admin. Field names are read from the pages that post there.
 */
export class FormSurface {
  readonly routes: FormRoute[] = [];
  private readonly clients = new Map<Stage, FormClient>();
  /** A user the support forms act on (their :id). */
  target!: TestUser;
  private ipCounter = 0;
  /** The admin behind the "full" client. */
  private admin!: TestUser;
  /** Accounts at "Choose a new password", whose password a well-formed post changes. */
  readonly choosingPassword = new Set<string>();

  constructor(private readonly t: TestApp) {}

  async discover(): Promise<this> {
    this.target = await addUser(this.t.deps, { loginId: `target-${Date.now()}` });
    const pages: Array<[Stage, string]> = [];
    for (const stage of ["anonymous", "enrol", "otp", "full", "password", "factor-setup"] as const) {
      const client = await this.client(stage);
      pages.push([stage, (await client.get(STAGE_PAGE[stage])).body]);
      // The app setup's page shows its confirm form once "Set up authenticator app" was posted (a GET starts nothing).
      if (stage === "factor-setup") await client.post("/factor-setup/app", {});
      for (const url of STAGE_EXTRA_PAGES[stage] ?? []) pages.push([stage, (await client.get(url)).body]);
      if (stage === "full") for (const body of await this.fullPages(client)) pages.push([stage, body]);
    }
    // Issue 13: OTP capture shows "Use a passkey instead" only to a user who has a passkey.
    pages.push(["otp", await this.passkeyOtpPage()]);
    for (const route of this.t.app.famosRoutes) {
      if (!["POST", "PUT", "PATCH", "DELETE"].includes(route.method) || route.config.csrf === false) continue;
      const access = route.config.access ?? "public";
      const stage: Stage = access === "public" ? "anonymous" : access === "enrol" || access === "otp" || access === "password" || access === "factor-setup" ? access : "full";
      const fields = new Set<string>();
      let forms = 0;
      let action: string | null = null;
      for (const [pageStage, body] of pages) {
        if (pageStage !== stage && stage !== "anonymous") continue;
        for (const form of formsPostingTo(body, route.url)) {
          forms += 1;
          action ??= form.action;
          for (const name of form.fields) fields.add(name);
        }
      }
      this.routes.push({ method: route.method, pattern: route.url, stage, fields: [...fields], forms, action: action ?? this.url(route.url) });
    }
    return this;
  }

  /**
   * The pages of a signed-in admin that hold forms, each brought to the state that shows them: a
   * second session (Profile's End), an address change waiting for its code, a live notice, a reset
   * waiting for confirmation.
   */
  private async fullPages(client: FormClient): Promise<string[]> {
    const bodies: string[] = [];
    const read = async (url: string) => {
      const response = await client.get(url);
      if (response.statusCode === 200) bodies.push(response.body);
    };
    await signInFully(new FormClient(this.t.app, "10.9.255.1"), this.t.smtp, this.admin);
    // Issue 13: a passkey of the admin's, so Profile shows its Remove form.
    await addStoredPasskey(this.t, this.admin.id);
    await read("/profile");
    await client.post("/profile/email", { newEmail: "surface.change@dealer.example", confirmNewEmail: "surface.change@dealer.example" });
    await read("/profile/email/confirm");
    // Issue 13: an authenticator app set up (its confirm form, then Remove and new recovery codes on
    // Profile), and a target with recovery codes, so its page offers "Remove second factors".
    await client.post("/profile/app", {});
    await read("/profile/app");
    await read("/profile");
    const secret = /class="secret">([A-Z2-7 ]+)</.exec(bodies.at(-2) ?? "")?.[1]?.replace(/ /g, "");
    if (secret) await client.post("/profile/app/confirm", { code: await generate({ secret, epoch: Math.floor(this.t.clock.now() / 1000) }) });
    await read("/profile");
    await this.t.deps.db.transaction().execute((tx) => issueRecoveryCodes(tx, this.t.deps, this.target.id));
    await read("/support");
    await read(`/support/users/${this.target.id}`);
    const removal = await client.post(`/support/users/${this.target.id}/factors`, {});
    if (removal.statusCode === 200) bodies.push(removal.body);
    const { target } = this;
    const reset = await client.post(`/support/users/${target.id}/reset`, { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number, ticket: "SURFACE-1" });
    if (reset.statusCode === 200) bodies.push(reset.body);
    // Issue 11's forms: a temporary password (its page, then its confirmation), a new user, and a
    // disabled account's Enable (on a user of its own, so the target stays enabled); Disable's form is
    // on its question page.
    await read(`/support/users/${target.id}/temporary-password`);
    const formStamp = formStampOf({ body: bodies.at(-1) ?? "" });
    const temporary = await client.post(`/support/users/${target.id}/temporary-password`, { name: target.full_name, loginId: target.login_id, partnerNumber: target.partner_number, ticket: "SURFACE-2", formStamp });
    if (temporary.statusCode === 200) bodies.push(temporary.body);
    await read("/support/users/new");
    const leaver = await addUser(this.t.deps, { loginId: `leaver-${Date.now()}` });
    await read(`/support/users/${leaver.id}/disable`);
    await client.post(`/support/users/${leaver.id}/disable`, {});
    await read(`/support/users/${leaver.id}`);
    // And "Keep disabled", offered only on an account an import --sync disabled (as such an import leaves it).
    const synced = await addUser(this.t.deps, { loginId: `synced-${Date.now()}` });
    await this.t.deps.db.updateTable("users").set({ disabled_at: this.t.clock.now(), sync_disabled_partner: synced.partner_number }).where("id", "=", synced.id).execute();
    await read(`/support/users/${synced.id}`);
    await read("/support/notices");
    const posted = await client.post("/support/notices", { title: "Surface notice", body: "A notice the form tests edit." });
    const notice = typeof posted.headers.location === "string" ? posted.headers.location.split("?")[0]! : null;
    if (notice) await read(notice);
    // Issue 12's forms: the Rollout page with a wave (its Remove), and early enrolment of a user who
    // signs in with the password alone before their wave.
    const now = this.t.clock.now();
    await setWaveStart(this.t.deps.db, "surface-wave", now + 86_400_000, now, "surface");
    await read("/support/rollout");
    const early = await addUser(this.t.deps, { loginId: `early-${Date.now()}`, partnerNumber: "surface-wave", email: null });
    const earlyClient = new FormClient(this.t.app, "10.9.255.2");
    await submitPassword(earlyClient, early.login_id, early.password);
    const earlyPage = await earlyClient.get("/rollout/enrol");
    if (earlyPage.statusCode === 200) bodies.push(earlyPage.body);
    // Issue 10's form: an address lock (a spray from one address) shows "Unlock address".
    const sprayer = "198.51.100.250";
    for (let i = 0; i < this.t.deps.config.address.lockAfter; i += 1) await submitPassword(new FormClient(this.t.app, sprayer), `spray.${i}`, "Winter2026!");
    await read("/support/addresses");
    await client.get("/profile");
    return bodies;
  }

  /** OTP capture of a user with a passkey (issue 13): its "Use a passkey instead" forms. */
  private async passkeyOtpPage(): Promise<string> {
    const holder = await addUser(this.t.deps, { loginId: `passkey-${Date.now()}` });
    await addStoredPasskey(this.t, holder.id);
    const { client } = await atCode(this.t, holder, "10.9.255.3");
    return (await client.get("/otp")).body;
  }

  /** The route's URL with its parameters filled: the target user's id, or `param` when given. */
  url(pattern: string, param?: string): string {
    return pattern.replace(/:[A-Za-z]+/g, () => encodeURIComponent(param ?? this.target.id));
  }

  /** A client at the stage, signed in afresh when the last one left it (signed out, cancelled, ...). */
  async client(stage: Stage): Promise<FormClient> {
    const existing = this.clients.get(stage);
    if (existing) {
      const page = await existing.get(STAGE_PAGE[stage]);
      if (page.statusCode === 200) return existing;
    }
    const ip = `10.9.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter++ % 250) + 1}`;
    let client: FormClient;
    if (stage === "anonymous") {
      client = new FormClient(this.t.app, ip);
    } else if (stage === "enrol") {
      client = (await atEnrolment(this.t, ip)).client;
    } else if (stage === "otp") {
      client = (await atCode(this.t, undefined, ip)).client;
    } else if (stage === "factor-setup") {
      // A fully signed-in user put at the setup screen, as FAMOS_STRONG_FACTOR_ROLES would (issue 13).
      const user = await addUser(this.t.deps);
      client = new FormClient(this.t.app, ip);
      await signInFully(client, this.t.smtp, user);
      await this.t.deps.db.updateTable("sessions").set({ stage: "factor-setup" }).where("user_id", "=", user.id).where("ended_at", "is", null).execute();
    } else if (stage === "password") {
      const at = await atChoosePassword(this.t, ip);
      client = at.client;
      // Its form legitimately changes this account's password.
      this.choosingPassword.add(at.user.id);
    } else {
      this.admin = await addUser(this.t.deps, { role: "admin" });
      client = new FormClient(this.t.app, ip);
      await signInFully(client, this.t.smtp, this.admin);
    }
    await client.get(STAGE_PAGE[stage]);
    this.clients.set(stage, client);
    return client;
  }

  /** Posts a form body (urlencoded; array values repeat the field) with the client's CSRF token. */
  async post(route: FormRoute, body: Record<string, string | string[]>, param?: string): Promise<LightMyRequestResponse> {
    return this.postAs(await this.client(route.stage), route, body, param);
  }

  /** As post, by a client client(route.stage) gave just before (whose session it has checked). */
  postAs(client: FormClient, route: FormRoute, body: Record<string, string | string[]>, param?: string): Promise<LightMyRequestResponse> {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
    form.set("_csrf", client.csrf!);
    return this.t.app.inject({
      method: route.method as "POST",
      url: param === undefined ? route.action : this.url(route.pattern, param),
      payload: form.toString(),
      headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded", "user-agent": "famos-surface" },
      remoteAddress: client.ip,
    });
  }
}

/** A passkey row as registration stores it (issue 13), for pages that list or offer passkeys. */
async function addStoredPasskey(t: TestApp, userId: string): Promise<void> {
  const id = `surface-${userId}`;
  await t.deps.db
    .insertInto("passkeys")
    .values({ id, user_id: userId, credential_id: Buffer.from(id).toString("base64url"), public_key: "AA", sign_count: 0, transports: null, device_type: "singleDevice", backed_up: 0, name: "Surface key", created_at: t.clock.now(), last_used_at: null })
    .execute();
}
