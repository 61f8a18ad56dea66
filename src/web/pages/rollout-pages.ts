import { formatDateTime } from "../../platform/format.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { enrolmentLineSvg, partnerBarsSvg } from "../../rollout/charts.ts";
import type { RolloutPlan } from "../../rollout/plan.ts";
import { FIGURE_COLUMNS, FIGURE_LABELS, type Figures, type RolloutProgress } from "../../rollout/progress.ts";
import { csrfField, message } from "../layout.ts";
import type { PortalFrame } from "./portal-pages.ts";
import { supportPage } from "./support-pages.ts";

export interface RolloutView {
  progress: RolloutProgress;
  plan: RolloutPlan;
  /** Administrators change the plan; support sees it. */
  canEdit: boolean;
  info?: string;
  error?: string;
  /** The plan form as typed, after a refusal. */
  form?: { partner: string; from: string };
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0%" : `${Math.round((100 * part) / whole)}%`;
}

function figureCells(f: Figures): SafeHtml {
  return html`${FIGURE_COLUMNS.map((c) => html`<td data-figure="${c}">${f[c]}</td>`)}`;
}

function planSection(frame: PortalFrame, v: RolloutView): SafeHtml {
  const tz = frame.t.timeZone;
  const waves = v.plan.waves;
  const list =
    waves.length === 0
      ? html`<p>There is no plan: two-factor sign-in applies to every user now.</p>`
      : html`<table class="plan">
<caption>Start of two-factor sign-in (${tz} time)</caption>
<thead><tr><th scope="col">Wave</th><th scope="col">Starts</th><th scope="col">Set by</th>${v.canEdit ? html`<th scope="col"><span class="visually-hidden">Remove</span></th>` : ""}</tr></thead>
<tbody>${waves.map(
          (w) => html`<tr><td>${w.partnerNumber === null ? "Default (every other partner)" : `Partner ${w.partnerNumber}`}</td><td>${formatDateTime(w.startsAt, tz)}</td><td>${w.updatedBy}</td>${
            v.canEdit
              ? html`<td><form method="post" action="/support/rollout/plan/remove">${csrfField(frame.csrf)}<input type="hidden" name="partner" value="${w.partnerNumber ?? ""}"><button type="submit" class="secondary">Remove${w.partnerNumber === null ? " default" : html`<span class="visually-hidden"> partner ${w.partnerNumber}</span>`}</button></form></td>`
              : ""
          }</tr>`,
        )}</tbody></table>`;
  const form = v.canEdit
    ? html`<form method="post" action="/support/rollout/plan" class="filters">
  ${csrfField(frame.csrf)}
  <div><label for="partner">Partner number (empty: the default start)</label>
  <input type="text" id="partner" name="partner" value="${v.form?.partner ?? ""}" maxlength="32" autocomplete="off"></div>
  <div><label for="from">Starts (${tz} time)</label>
  <input type="datetime-local" id="from" name="from" value="${v.form?.from ?? ""}" required></div>
  <div class="buttons"><button type="submit">Save start</button></div>
</form>`
    : html`<p class="advice">Only an administrator can change the plan.</p>`;
  return html`<section aria-labelledby="plan-heading"><h2 id="plan-heading">Plan</h2>${list}${form}</section>`;
}

/** The console page "Rollout": plan, overall figures, a bar per partner, enrolments per day. */
export function rolloutPage(frame: PortalFrame, v: RolloutView): string {
  const tz = frame.t.timeZone;
  const { overall, partners, days } = v.progress;
  const head = html`${FIGURE_COLUMNS.map((c) => html`<th scope="col">${FIGURE_LABELS[c]}</th>`)}`;
  const body = html`<h1>Rollout</h1>
${message("info", v.info)}${message("error", v.error)}
<section aria-labelledby="overall-heading"><h2 id="overall-heading">Overall</h2>
<p><strong data-figure="enrolled-share">${percent(overall.enrolled, overall.users)}</strong> of ${overall.users} users have a confirmed OTP email.</p>
<table class="figures" id="overall"><caption class="visually-hidden">All partners</caption>
<thead><tr>${head}</tr></thead><tbody><tr>${figureCells(overall)}</tr></tbody></table>
<p><a class="button secondary" href="/support/rollout.csv">Download CSV</a></p>
</section>
${planSection(frame, v)}
<section aria-labelledby="partners-heading"><h2 id="partners-heading">By partner</h2>
<div class="chart-beside">
${partnerBarsSvg(partners, "partners-chart")}
<table class="figures" id="partners"><caption>Figures by partner</caption>
<thead><tr><th scope="col">Partner</th><th scope="col">Starts</th>${head}</tr></thead>
<tbody>${partners.map(
    (p) => html`<tr data-partner="${p.partnerNumber}"><th scope="row">${p.partnerNumber}</th><td>${p.startsAt === null ? "now (no plan)" : formatDateTime(p.startsAt, tz)}</td>${figureCells(p)}</tr>`,
  )}</tbody></table>
</div></section>
<section aria-labelledby="days-heading"><h2 id="days-heading">Enrolments per day</h2>
<div class="chart-beside">
${enrolmentLineSvg(days, "days-chart")}
<table class="figures" id="days"><caption>Confirmed OTP emails per day (${tz})</caption>
<thead><tr><th scope="col">Day</th><th scope="col">Enrolled</th></tr></thead>
<tbody>${days.map((d) => html`<tr><th scope="row">${d.day}</th><td data-figure="enrolled">${d.enrolled}</td></tr>`)}</tbody></table>
</div></section>
<p class="advice">Locked and disabled users are counted within enrolled, pending and not started.</p>`;
  return supportPage(frame, "Rollout", "rollout", body);
}
