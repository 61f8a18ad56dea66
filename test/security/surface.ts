import type { LightMyRequestResponse } from "fastify";
import { addUser, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { atChoosePassword, atCode, atEnrolment, formFields, type TestUser } from "./helpers.ts";

export type Stage = "anonymous" | "enrol" | "otp" | "full" | "password";

/** One form handler of the app: a state-changing route, the step it belongs to and the fields its form sends. */
export interface FormRoute {
  method: string;
  pattern: string;
  stage: Stage;
  fields: string[];
}

const STAGE_PAGE: Record<Stage, string> = { anonymous: "/login", enrol: "/enrol", otp: "/otp", full: "/profile", password: "/choose-password" };

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
  /** Accounts at "Choose a new password", whose password a well-formed post changes. */
  readonly choosingPassword = new Set<string>();

  constructor(private readonly t: TestApp) {}

  async discover(): Promise<this> {
    this.target = await addUser(this.t.deps, { loginId: `target-${Date.now()}` });
    const pages: Array<[Stage, string]> = [];
    for (const stage of ["anonymous", "enrol", "otp", "full", "password"] as const) {
      const client = await this.client(stage);
      pages.push([stage, (await client.get(STAGE_PAGE[stage])).body]);
      if (stage === "full") {
        for (const url of ["/support", `/support/users/${this.target.id}`, "/profile/email/confirm"]) {
          const response = await client.get(url);
          if (response.statusCode === 200) pages.push([stage, response.body]);
        }
      }
    }
    for (const route of this.t.app.famosRoutes) {
      if (!["POST", "PUT", "PATCH", "DELETE"].includes(route.method) || route.config.csrf === false) continue;
      const access = route.config.access ?? "public";
      const stage: Stage = access === "public" ? "anonymous" : access === "enrol" || access === "otp" || access === "password" ? access : "full";
      const action = this.url(route.url);
      let fields: string[] | null = null;
      for (const [pageStage, body] of pages) if (pageStage === stage || stage === "anonymous") fields ??= formFields(body, action);
      this.routes.push({ method: route.method, pattern: route.url, stage, fields: fields ?? [] });
    }
    return this;
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
    } else if (stage === "password") {
      const at = await atChoosePassword(this.t, ip);
      client = at.client;
      // Its form legitimately changes this account's password.
      this.choosingPassword.add(at.user.id);
    } else {
      const admin = await addUser(this.t.deps, { role: "admin" });
      client = new FormClient(this.t.app, ip);
      await signInFully(client, this.t.smtp, admin);
    }
    await client.get(STAGE_PAGE[stage]);
    this.clients.set(stage, client);
    return client;
  }

  /** Posts a form body (urlencoded; array values repeat the field) with the client's CSRF token. */
  async post(route: FormRoute, body: Record<string, string | string[]>, param?: string): Promise<LightMyRequestResponse> {
    const client = await this.client(route.stage);
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
    form.set("_csrf", client.csrf!);
    return this.t.app.inject({
      method: route.method as "POST",
      url: this.url(route.pattern, param),
      payload: form.toString(),
      headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded", "user-agent": "famos-surface" },
      remoteAddress: client.ip,
    });
  }
}
