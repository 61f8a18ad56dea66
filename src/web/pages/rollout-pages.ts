import type { MessageKey, Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { dayInLanguage, enrolmentLineSvg, partnerBarsSvg } from "../../rollout/charts.ts";
import type { RolloutPlan } from "../../rollout/plan.ts";
import { FIGURE_COLUMNS, type Figures, type RolloutProgress } from "../../rollout/progress.ts";
import { NO_PROBLEMS, problemSummary, textField, type FieldProblems } from "../field-problems.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { consoleTime, supportPage, timeColumn } from "./support-pages.ts";

export interface RolloutView {
  progress: RolloutProgress;
  plan: RolloutPlan;
  /** Administrators change the plan; support sees it. */
  canEdit: boolean;
  info?: string;
  /** A wave's removal refused (no field of its own: said at the top). */
  error?: string;
  /** The plan form refused: every problem at once, each beside its field. */
  problems?: FieldProblems;
  /** The plan form as typed, after a refusal. */
  form?: { partner: string; from: string };
}

function percent(t: Translator, part: number, whole: number): string {
  return new Intl.NumberFormat(t.locale, { style: "percent" }).format(whole === 0 ? 0 : Math.round((100 * part) / whole) / 100);
}

const FIGURE_KEYS: Record<(typeof FIGURE_COLUMNS)[number], MessageKey> = {
  users: "rollout.figure.users",
  enrolled: "rollout.figure.enrolled",
  pending: "rollout.figure.pending",
  notStarted: "rollout.figure.notStarted",
  locked: "rollout.figure.locked",
  disabled: "rollout.figure.disabled",
};

function figureCells(f: Figures): SafeHtml {
  return html`${FIGURE_COLUMNS.map((c) => html`<td data-figure="${c}">${f[c]}</td>`)}`;
}

function planSection(frame: PortalFrame, v: RolloutView): SafeHtml {
  const { t } = frame;
  // The plan's times are shown, and a new start is read, in the reader's zone, named as people say it
  // ("UK time") through Translator.withZone, as on the rest of the console.
  const waves = v.plan.waves;
  const problems = v.problems ?? NO_PROBLEMS;
  const list =
    waves.length === 0
      ? html`<p>${t.text("rollout.plan.none")}</p>`
      : scrollingTable("plan-caption", html`<table class="plan">
<caption id="plan-caption">${t.withZone(t.text("rollout.plan.caption"), frame.now)}</caption>
<thead><tr><th scope="col">${t.text("rollout.plan.wave")}</th><th scope="col">${t.text("rollout.starts")}</th><th scope="col">${t.text("rollout.plan.setBy")}</th>${v.canEdit ? html`<th scope="col"><span class="visually-hidden">${t.text("rollout.plan.remove")}</span></th>` : ""}</tr></thead>
<tbody>${waves.map(
          (w) => html`<tr><td>${w.partnerNumber === null ? t.text("rollout.plan.default") : t.text("rollout.plan.partner", { partner: w.partnerNumber })}</td><td>${consoleTime(t, w.startsAt)}</td><td>${w.updatedBy}</td>${
            v.canEdit
              ? html`<td><form method="post" action="/support/rollout/plan/remove">${csrfField(frame.csrf)}<input type="hidden" name="partner" value="${w.partnerNumber ?? ""}"><button type="submit" class="secondary">${
                  w.partnerNumber === null ? t.text("rollout.plan.removeDefault") : html`${t.text("rollout.plan.remove")}<span class="visually-hidden"> ${t.text("rollout.plan.removePartner", { partner: w.partnerNumber })}</span>`
                }</button></form></td>`
              : ""
          }</tr>`,
        )}</tbody></table>`);
  const form = v.canEdit
    ? html`${problemSummary(t, problems)}<form method="post" action="/support/rollout/plan" class="filters" novalidate>
  ${csrfField(frame.csrf)}
  <div>${textField(problems, { id: "partner", label: t.text("rollout.plan.partnerField"), value: v.form?.partner, maxlength: 32, autocomplete: "off" })}</div>
  <div>${textField(problems, { id: "from", label: t.withZone(t.text("rollout.plan.startsField"), frame.now), type: "datetime-local", value: v.form?.from, required: true })}</div>
  <div class="buttons"><button type="submit">${t.text("rollout.plan.save")}</button></div>
</form>`
    : html`<p class="advice">${t.text("rollout.plan.adminOnly")}</p>`;
  return html`<section aria-labelledby="plan-heading"><h2 id="plan-heading">${t.text("rollout.plan.heading")}</h2>${list}${form}</section>`;
}

/** The console page "Rollout": plan, overall figures, a bar per partner, enrolments per day. */
export function rolloutPage(frame: PortalFrame, v: RolloutView): SafeHtml {
  const { t } = frame;
  const { overall, partners, days } = v.progress;
  const head = html`${FIGURE_COLUMNS.map((c) => html`<th scope="col">${t.text(FIGURE_KEYS[c])}</th>`)}`;
  const body = html`<h1>${t.text("console.nav.rollout")}</h1>
${message("info", v.info)}${message("error", v.error)}
<section aria-labelledby="overall-heading"><h2 id="overall-heading">${t.text("rollout.overall.heading")}</h2>
<p>${t.html("rollout.overall.share", { share: html`<strong data-figure="enrolled-share">${percent(t, overall.enrolled, overall.users)}</strong>`, count: overall.users })}</p>
${scrollingTable("overall-caption", html`<table class="figures" id="overall"><caption class="visually-hidden" id="overall-caption">${t.text("rollout.overall.caption")}</caption>
<thead><tr>${head}</tr></thead><tbody><tr>${figureCells(overall)}</tr></tbody></table>`)}
<p><a class="button secondary" href="/support/rollout.csv">${t.text("console.downloadCsv")}</a></p>
</section>
${planSection(frame, v)}
<section aria-labelledby="partners-heading"><h2 id="partners-heading">${t.text("rollout.partners.heading")}</h2>
<div class="chart-beside">
${partnerBarsSvg(t, partners, "partners-chart")}
${scrollingTable("partners-caption", html`<table class="figures" id="partners"><caption id="partners-caption">${t.text("rollout.partners.caption")}</caption>
<thead><tr><th scope="col">${t.text("rollout.partner")}</th><th scope="col">${timeColumn(t, t.text("rollout.starts"), frame.now)}</th>${head}</tr></thead>
<tbody>${partners.map(
    (p) => html`<tr data-partner="${p.partnerNumber}"><th scope="row">${p.partnerNumber}</th><td>${p.startsAt === null ? t.text("rollout.partners.now") : consoleTime(t, p.startsAt)}</td>${figureCells(p)}</tr>`,
  )}</tbody></table>`)}
</div></section>
<section aria-labelledby="days-heading"><h2 id="days-heading">${t.text("rollout.days.heading")}</h2>
<div class="chart-beside">
${enrolmentLineSvg(t, days, "days-chart")}
${scrollingTable("days-caption", html`<table class="figures" id="days"><caption id="days-caption">${t.withZone(t.text("rollout.days.caption"), frame.now)}</caption>
<thead><tr><th scope="col">${t.text("rollout.days.day")}</th><th scope="col">${t.text("rollout.figure.enrolled")}</th><th scope="col">${t.text("rollout.days.imported")}</th></tr></thead>
<tbody>${days.map((d) => html`<tr><th scope="row">${dayInLanguage(t, d.day)}</th><td data-figure="enrolled">${d.enrolled}</td><td data-figure="imported">${d.imported}</td></tr>`)}</tbody></table>`)}
</div></section>
<p class="advice">${t.text("rollout.countedWithin")}</p>`;
  return supportPage(frame, t.text("console.nav.rollout"), "rollout", body);
}
