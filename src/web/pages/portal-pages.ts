import type { Config } from "../../config/config.ts";
import type { Notice } from "../../notices/notices.ts";
import type { Translator } from "../../i18n/translator.ts";
import { maskEmail } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import type { User } from "../../users/users.ts";
import { message, page } from "../layout.ts";
import { langAttribute, noticeLanguage, sectionLanguage, sentenceWith } from "../language-of-parts.ts";

export interface PortalFrame {
  config: Readonly<Config>;
  /** The reader's language and time zone (issue 16). */
  t: Translator;
  /** The clock's time when the page was asked for (zone names depend on the date). */
  now: number;
  csrf: string;
  user: User;
  notices: Notice[];
  /** The 2FA rollout's invitation to set an OTP email (issue 12), when the user has one. */
  rollout?: SafeHtml;
}

/** "Application Issue <14/06/2023 17:47> Please click for more info", with "UPDATED" when edited. */
export function noticeBanner(frame: Pick<PortalFrame, "t" | "notices" | "config">): SafeHtml {
  const { t, notices } = frame;
  if (notices.length === 0) return html``;
  const lang = noticeLanguage(frame.config);
  return html`<aside class="notices" aria-label="${t.text("notices.label")}"><ul>${notices.map((n) => {
    const updated = n.updated_at
      ? html` ${t.text("notices.updated", { date: t.date(n.updated_at).replace(/([/.-])(\d{2})(\d{2})$/, "$1$3"), time: t.time(n.updated_at) })}`
      : "";
    return html`<li><a href="/notices/${n.id}">${sentenceWith(t, "notices.banner", { at: t.dateTime(n.created_at) }, "title", lang, n.title)}</a>${updated}</li>`;
  })}</ul></aside>`;
}

export function portalPage(frame: PortalFrame, title: string, active: string | null, body: SafeHtml): SafeHtml {
  return page({
    title,
    body,
    config: frame.config,
    t: frame.t,
    portal: {
      csrf: frame.csrf,
      active,
      notices: html`${frame.rollout ?? ""}${noticeBanner(frame)}`,
      isSupport: frame.user.role !== "user",
    },
  });
}

/** `info`: what a step that landed here says (a Cancel answered after the Confirm of its sign-in). */
export function homePage(frame: PortalFrame, info?: string): SafeHtml {
  const { user, config, t } = frame;
  const welcome = t.text("home.welcome", { name: user.full_name });
  return portalPage(
    frame,
    welcome,
    null,
    html`<h1>${welcome}</h1>
${message("info", info)}
<p>${t.html("home.signedInAs", { loginId: user.login_id, partner: user.partner_number })}</p>
<p>${t.html("home.sections", { sections: html`${config.sections.map((s, i) => html`${i ? ", " : ""}<a href="${s.path}"${langAttribute(t, sectionLanguage(config, s))}>${s.label}</a>`)}` })}</p>`,
  );
}

/** A section of the protected application when FAMOS_UPSTREAM_URL is not configured. */
export function sectionPlaceholder(frame: PortalFrame, label: string, path: string): SafeHtml {
  return portalPage(
    frame,
    label,
    path,
    html`<h1>${label}</h1>
<p>${frame.t.text("section.notConnected")}</p>
<p>${frame.t.html("section.operators", { path })}</p>`,
  );
}

export function profileFacts(t: Translator, user: User): SafeHtml {
  return html`<dl class="facts">
  <dt>${t.text("field.loginId")}</dt><dd>${user.login_id}</dd>
  <dt>${t.text("facts.name")}</dt><dd>${user.full_name}</dd>
  <dt>${t.text("facts.partner")}</dt><dd>${user.partner_number}</dd>
  <dt>${t.text("facts.otpEmail")}</dt><dd>${user.otp_email ?? t.text("facts.none")}${user.otp_email ? html` <span class="advice">${t.text("facts.masked", { masked: maskEmail(user.otp_email) })}</span>` : ""}</dd>
</dl>`;
}

export function noticePage(frame: PortalFrame, notice: Notice): SafeHtml {
  const { t } = frame;
  return portalPage(
    frame,
    notice.title,
    null,
    html`<h1${langAttribute(t, noticeLanguage(frame.config))}>${notice.title}</h1>
<p class="advice">${t.text("notice.posted", { at: t.dateTime(notice.created_at) })}${notice.updated_at ? t.text("notice.updated", { at: t.dateTime(notice.updated_at) }) : ""}${notice.ended_at ? t.text("notice.ended", { at: t.dateTime(notice.ended_at) }) : ""}</p>
<div class="notice-body"${langAttribute(t, noticeLanguage(frame.config))}>${notice.body.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div>
<p><a href="/">${t.text("link.backToFamos")}</a></p>`,
  );
}

export function legalPage(t: Translator, config: Readonly<Config>): SafeHtml {
  return page({
    title: t.text("layout.legal"),
    config,
    t,
    body: html`<h1>${t.text("layout.legal")}</h1><p>${t.html("legal.none")}</p><p><a href="/">${t.text("link.backToFamos")}</a></p>`,
  });
}
