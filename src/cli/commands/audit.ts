import { once } from "node:events";
import { Command } from "commander";
import { terminalJson, terminalText } from "../../platform/terminal-text.ts";
import type { AuditRecord } from "../../audit/audit.ts";
import { isAuditEvent } from "../../audit/events.ts";
import { formatDateTime } from "../../platform/format.ts";
import { auditRecords, type AuditFilter } from "../../support/audit-trail.ts";
import { parseLocalDateTime } from "../../support/zoned-time.ts";
import { withServices } from "../context.ts";
import { Refused, refuseEmptyOption } from "../io.ts";

/** RFC 3339 §5.6 date-time: a space may stand for the T, and t and z may be lower case. */
const WITH_ZONE = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2})?)(\.\d{1,3})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$/;

/**
 * An ISO 8601 time; without an offset it is read in FAMOS_TIMEZONE, like every time FAMOS shows. With one
 * its fields are checked as a wall-clock time is (parseLocalDateTime: no 30 February, 24:00 or 08:60
 * rolled over into another moment), then the offset (hours to 23, minutes to 59, RFC 3339) taken off.
 */
export function parseSince(text: string, timezone: string): number {
  const value = text.trim();
  const zoned = WITH_ZONE.exec(value);
  if (zoned) {
    const [, wall, fraction, sign, hours, minutes] = zoned;
    const local = parseLocalDateTime(wall!.replace(/t/, "T"), "UTC");
    if (local !== null && (sign === undefined || (Number(hours) <= 23 && Number(minutes) <= 59))) {
      const offset = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) * 60_000;
      return local + Math.round(Number(fraction ?? 0) * 1000) - offset;
    }
  } else if (WITHOUT_ZONE.test(value)) {
    const ms = parseLocalDateTime(value.length > 10 ? value : `${value}T00:00`, timezone);
    if (ms !== null) return ms;
  }
  throw new Refused(`--since: "${text}" is not an ISO 8601 time such as 2026-06-14, 2026-06-14T17:47, 2026-06-14T16:47:00Z or 2026-06-14 16:47+01:00`);
}

/** The interface contract's JSON line: time, event, actor, subject, ip, userAgent, detail. */
export function auditJsonLine(r: AuditRecord): string {
  return terminalJson({ time: new Date(r.time).toISOString(), event: r.event, actor: r.actor, subject: r.subject, ip: r.ip, userAgent: r.userAgent, detail: r.detail });
}

function auditTextLine(r: AuditRecord, timezone: string): string {
  const detail = Object.keys(r.detail).length ? ` ${JSON.stringify(r.detail)}` : "";
  return terminalText(`${formatDateTime(r.time, timezone)}  ${r.event.padEnd(20)} ${r.actor ?? "-"} → ${r.subject ?? "-"}  ${r.ip ?? "-"}${detail}`);
}

export function auditCommand(): Command {
  return new Command("audit")
    .description("print the audit trail, oldest first (event names: see the README, \"Audit events\")")
    .option("--user <login-id>", "events about this login ID or done by it (case ignored)")
    .option("--since <ISO time>", "events at or after this time; without an offset, in FAMOS_TIMEZONE")
    .option("--event <name>", "events of this name only")
    .option("--json", "one JSON object a line: time, event, actor, subject, ip, userAgent, detail")
    .action(async (options: { user?: string; since?: string; event?: string; json?: boolean }) => {
      refuseEmptyOption("--user", options.user, "a login ID, or leave --user out for every user's events");
      await withServices(async ({ deps }) => {
        const filter: AuditFilter = {};
        if (options.user !== undefined) filter.user = options.user;
        if (options.since !== undefined) filter.since = parseSince(options.since, deps.config.timezone);
        if (options.event !== undefined) {
          if (!isAuditEvent(options.event)) throw new Refused(`--event: "${options.event}" is not an event name; the names are listed in the README`);
          filter.event = options.event;
        }
        for await (const record of auditRecords(deps.db, filter, "asc")) {
          const line = options.json ? auditJsonLine(record) : auditTextLine(record, deps.config.timezone);
          // Respect the pipe's back-pressure: a large trail piped into `head` or a file stays bounded in memory.
          if (!process.stdout.write(`${line}\n`)) await once(process.stdout, "drain");
        }
      });
    });
}
