import type { Translator } from "../i18n/translator.ts";
import { html, type SafeHtml } from "../platform/html.ts";
import type { DailyEnrolments, PartnerFigures } from "./progress.ts";

/**
 * The Rollout page's two charts, drawn on the server as SVG (no script, so the CSP stays strict).
 * Each state has a pattern as well as a shade and every bar carries its numbers as text, so the
 * charts read without colour (WCAG 1.4.1); the page puts a table beside each for screen readers.
 */

/** Length of a full bar (a partner's users) in SVG units; a segment is its share of that. */
export const BAR_LENGTH = 360;
const LABEL_WIDTH = 90;
/** A bar with its words on a line of their own below it: beside it they ran past the chart's edge in every language but English. */
const ROW = 44;
const BAR_HEIGHT = 18;
/** The room the words below a bar get (from LABEL_WIDTH): Dutch, the longest, takes about 310 units at 12 px. */
const BARS_WIDTH = LABEL_WIDTH + BAR_LENGTH + 20;
/** Legend entries apart: the longest label ("nicht begonnen") with its swatch takes about 115 units. */
const LEGEND_STEP = 150;

export const SEGMENTS = [
  { key: "enrolled", label: "rollout.chart.enrolled", fill: "url(#rollout-solid)" },
  { key: "pending", label: "rollout.chart.pending", fill: "url(#rollout-hatch)" },
  { key: "notStarted", label: "rollout.chart.notStarted", fill: "url(#rollout-dots)" },
] as const;

/** A segment's length, rounded as it is drawn (two decimals). */
export function segmentLength(count: number, users: number): number {
  return users === 0 ? 0 : Math.round((BAR_LENGTH * count * 100) / users) / 100;
}

const PATTERNS = html`<defs>
<pattern id="rollout-solid" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#1b5e20"/></pattern>
<pattern id="rollout-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff6e0"/><line x1="0" y1="0" x2="0" y2="8" stroke="#7a4b00" stroke-width="3"/></pattern>
<pattern id="rollout-dots" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="#ffffff"/><circle cx="4" cy="4" r="1.6" fill="#555555"/></pattern>
</defs>`;

function legend(t: Translator, y: number): SafeHtml {
  return html`<g class="legend">${SEGMENTS.map(
    (s, i) => html`<rect x="${i * LEGEND_STEP}" y="${y}" width="16" height="16" fill="${s.fill}" stroke="#1a1a1a"/><text x="${i * LEGEND_STEP + 22}" y="${y + 13}" font-size="13">${t.text(s.label)}</text>`,
  )}</g>`;
}

/** One stacked bar per partner: enrolled (solid), pending (hatched), not started (dotted). */
export function partnerBarsSvg(t: Translator, partners: readonly PartnerFigures[], id: string): SafeHtml {
  const height = partners.length * ROW + 40;
  const width = BARS_WIDTH;
  const rows = partners.map((p, i) => {
    const y = i * ROW + 4;
    let x = LABEL_WIDTH;
    const segments = SEGMENTS.map((s) => {
      const length = segmentLength(p[s.key], p.users);
      const rect = html`<rect data-partner="${p.partnerNumber}" data-segment="${s.key}" x="${x.toFixed(2)}" y="${y}" width="${length.toFixed(2)}" height="${BAR_HEIGHT}" fill="${s.fill}" stroke="#1a1a1a" stroke-width="0.5"/>`;
      x += length;
      return rect;
    });
    return html`<g><text x="0" y="${y + 14}" font-size="13">${p.partnerNumber}</text>${segments}<text x="${LABEL_WIDTH}" y="${y + BAR_HEIGHT + 14}" font-size="12">${t.text("rollout.chart.barText", { enrolled: p.enrolled, pending: p.pending, notStarted: p.notStarted })}</text></g>`;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<title id="${id}-title">${t.text("rollout.chart.barsTitle")}</title>
<desc id="${id}-desc">${t.text("rollout.chart.barsDesc")}</desc>
${PATTERNS}${rows}${legend(t, partners.length * ROW + 14)}
</svg>`;
}

/**
 * A day of the figures, "28/11/2026" as the CSV and `famos rollout status` write it, as the reader's
 * language writes dates ("28.11.2026"; short, day and month: "28.11."). Formatted at noon UTC in UTC,
 * so no reader's zone moves it to another day.
 */
export function dayInLanguage(t: Translator, day: string, short = false): string {
  const [d = 1, m = 1, y = 1970] = day.split("/").map(Number);
  return new Intl.DateTimeFormat(t.locale, { timeZone: "UTC", day: "2-digit", month: "2-digit", ...(short ? {} : { year: "numeric" }) }).format(Date.UTC(y, m - 1, d, 12));
}

const LINE = { width: 560, height: 220, left: 40, right: 16, top: 20, bottom: 40 };

/** Where each day's point is drawn (exported for the tests that check the line). */
export function linePoints(days: readonly DailyEnrolments[]): { x: number; y: number }[] {
  const max = Math.max(1, ...days.map((d) => d.enrolled));
  const plotWidth = LINE.width - LINE.left - LINE.right;
  const plotHeight = LINE.height - LINE.top - LINE.bottom;
  const step = days.length > 1 ? plotWidth / (days.length - 1) : 0;
  return days.map((d, i) => ({
    x: Math.round((LINE.left + i * step) * 100) / 100,
    y: Math.round((LINE.top + plotHeight - (plotHeight * d.enrolled) / max) * 100) / 100,
  }));
}

/**
 * Enrolments per day as a line with a marked, labelled point for each day. The last day's label ends
 * at the chart's edge: centred on its point, a longer date ("28.11.") ran past it and was cut off.
 */
export function enrolmentLineSvg(t: Translator, days: readonly DailyEnrolments[], id: string): SafeHtml {
  const points = linePoints(days);
  const baseline = LINE.height - LINE.bottom;
  const labelEvery = Math.max(1, Math.ceil(days.length / 7));
  return html`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${LINE.width} ${LINE.height}" width="${LINE.width}" height="${LINE.height}">
<title id="${id}-title">${t.text("rollout.days.heading")}</title>
<desc id="${id}-desc">${t.text("rollout.chart.lineDesc", { count: days.length })}</desc>
<line x1="${LINE.left}" y1="${baseline}" x2="${LINE.width - LINE.right}" y2="${baseline}" stroke="#1a1a1a"/>
<line x1="${LINE.left}" y1="${LINE.top}" x2="${LINE.left}" y2="${baseline}" stroke="#1a1a1a"/>
<polyline fill="none" stroke="#0b3b66" stroke-width="2" points="${points.map((p) => `${p.x},${p.y}`).join(" ")}"/>
${points.map(
    (p, i) => html`<g><rect data-day="${days[i]!.day}" x="${p.x - 3.5}" y="${p.y - 3.5}" width="7" height="7" fill="#0b3b66"/><text x="${p.x}" y="${p.y - 8}" font-size="11" text-anchor="middle">${days[i]!.enrolled}</text>${i % labelEvery === 0 || i === days.length - 1 ? html`<text ${i > 0 && i === days.length - 1 ? html`x="${LINE.width - 1}" text-anchor="end"` : html`x="${p.x}" text-anchor="middle"`} y="${baseline + 16}" font-size="11">${dayInLanguage(t, days[i]!.day, true)}</text>` : ""}</g>`,
  )}
</svg>`;
}
