import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { isAuditEvent } from "../../audit/events.ts";
import { AUDIT_CSV_HEADER, auditCsvRow, csvLine } from "../../support/audit-csv.ts";
import { auditPage, exportAuditTrail, type AuditFilter } from "../../support/audit-trail.ts";
import { parseLocalDateTime } from "../../support/zoned-time.ts";
import { HttpProblem } from "../errors.ts";
import { NO_PROBLEMS, type FieldProblems } from "../field-problems.ts";
import { askedPage, askedRow } from "../../support/paging.ts";
import { tr } from "../reader.ts";
import { auditTrailPage, exportedRecord, type AuditFilterForm } from "../pages/support-audit-pages.ts";
import { portalFrame } from "./portal.ts";
import { acting } from "./support-acting.ts";

type Parsed = { form: AuditFilterForm; filter: AuditFilter; problems: FieldProblems };

/** Reads the filter from the query string; a value that makes no sense is said beside its field, never guessed. */
function readFilter(deps: Deps, request: FastifyRequest): Parsed {
  const query = request.query as Record<string, unknown>;
  const text = (name: string, max: number) => (typeof query[name] === "string" ? (query[name] as string).slice(0, max).trim() : "");
  const form: AuditFilterForm = { user: text("user", 128), event: text("event", 64), from: text("from", 32), until: text("until", 32) };
  const filter: AuditFilter = {};
  // In the form's order (user, event, from, until): the cursor goes to the first.
  const problems = new Map<string, string>();
  const t = tr(deps, request);
  if (form.user) filter.user = form.user;
  if (form.event) {
    if (isAuditEvent(form.event)) filter.event = form.event;
    else problems.set("event", t.text("console.audit.noEvent", { event: form.event }));
  }
  for (const [key, bound] of [["from", "since"], ["until", "until"]] as const) {
    if (!form[key]) continue;
    // The support user's zone (issue 16): the one the form's labels name.
    const ms = parseLocalDateTime(form[key], t.timeZone);
    if (ms === null) problems.set(key, t.text("console.audit.notADate", { value: form[key] }));
    else filter[bound] = ms;
  }
  // An empty window is a mistake, not an answer: "No events match." would tell support nothing happened.
  // Either bound may be the wrong one, so both fields say it (the summary counts it once).
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) {
    const why = t.text("console.audit.fromAfterUntil");
    problems.set("from", why).set("until", why);
  }
  return { form, filter, problems: problems.size ? problems : NO_PROBLEMS };
}

/** SPEC item 8, "read the audit trail", with a CSV export for tickets and investigations. */
export function supportAuditRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };

  app.get("/support/audit", support, async (request, reply) => {
    const { form, filter, problems } = readFilter(deps, request);
    const frame = await portalFrame(deps, request, reply);
    if (problems.size) return reply.code(400).type("text/html; charset=utf-8").send(auditTrailPage(frame, { form, records: [], page: 1, hasNext: false, hasPrevious: false, pastEnd: null, pageLimit: null, problems }));
    // Older and Newer continue from a row (?before=, ?after=), and carry the page's number; ?page=N alone is a numbered page.
    const query = request.query as Record<string, unknown>;
    const before = askedRow(query.before);
    const after = before === undefined ? askedRow(query.after) : undefined;
    const result = await auditPage(deps.db, filter, { page: askedPage(query.page), ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
    return reply.type("text/html; charset=utf-8").send(auditTrailPage(frame, { form, ...result }));
  });

  app.get("/support/audit.csv", support, async (request, reply) => {
    const { filter, problems } = readFilter(deps, request);
    // Each reason once: "From" after "Until" stands beside both its fields on the page.
    if (problems.size) throw new HttpProblem(400, [...new Set(problems.values())].join(" "));
    const tz = tr(deps, request).timeZone;
    const now = deps.clock.now();
    const stamp = new Date(now).toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    // The reader as this request's session read them: a role changed since the last download counts now.
    const { user, audit } = acting(request);
    const records = await exportAuditTrail(deps.db, now, audit, filter);
    async function* lines() {
      // A byte order mark, so spreadsheet programs read the file as UTF-8.
      yield `\uFEFF${csvLine(AUDIT_CSV_HEADER)}`;
      for await (const record of records) yield auditCsvRow(exportedRecord(record, user), tz);
    }
    return reply
      .type("text/csv; charset=utf-8")
      .header("content-disposition", `attachment; filename="famos-audit-${stamp}.csv"`)
      .send(Readable.from(lines()));
  });
}
