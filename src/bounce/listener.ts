import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerError } from "smtp-server";
import type { Deps } from "../app/deps.ts";
import { MAX_DSN_BYTES, parseDsn } from "./dsn.ts";
import { reportsTaken } from "./forward-reports.ts";
import { recordBounce } from "./record-bounce.ts";
import { outboxIdFromReturnPath } from "./verp.ts";

export interface BounceListener {
  port: number;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): SMTPServerError {
  const error: SMTPServerError = new Error(text);
  error.responseCode = code;
  return error;
}

/**
 * FAMOS_BOUNCE_SMTP_PORT: takes delivery status notifications for bounce+<outbox id>@FAMOS_BOUNCE_DOMAIN
 * and nothing else (any other recipient, or an id FAMOS never sent, is refused at RCPT TO with 550),
 * so it cannot be used as a relay or a mailbox. Meant to sit behind the MX or relay that owns the
 * bounce domain; it offers neither AUTH nor STARTTLS.
 */
export async function startBounceListener(deps: Deps, options: { host: string; port: number }): Promise<BounceListener> {
  const domain = deps.config.bounce.domain;
  if (!domain) throw new Error("FAMOS_BOUNCE_DOMAIN is not set");
  const server = new SMTPServer({
    name: domain,
    banner: "FAMOS bounce listener",
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    size: MAX_DSN_BYTES,
    maxClients: 50,
    closeTimeout: 1000,
    async onRcptTo(address, _session, callback) {
      const id = outboxIdFromReturnPath(address.address, domain);
      try {
        const known = id !== null && (await deps.db.selectFrom("outbox").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
        callback(known ? undefined : smtpError(550, "5.1.1 No such bounce address"));
      } catch (error) {
        deps.logger.error({ err: error }, "bounce listener could not read the outbox");
        callback(smtpError(451, "4.3.0 Try again later"));
      }
    },
    onData(stream, session, callback) {
      // smtp-server goes on reading and passing on a message past `size` (it only marks the stream),
      // so what is kept is bounded here: past MAX_DSN_BYTES nothing more is kept, and an unauthenticated
      // client streaming gigabytes to a bounce address it read in a mail cannot fill FAMOS's memory.
      const chunks: Buffer[] = [];
      let kept = 0;
      stream.on("data", (chunk: Buffer) => {
        kept += chunk.length;
        if (kept <= MAX_DSN_BYTES) chunks.push(chunk);
        else chunks.length = 0;
      });
      stream.on("error", (error: Error) => callback(error));
      stream.on("end", () => {
        // Such a message is not a DSN of ours.
        if (kept > MAX_DSN_BYTES || (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return callback(smtpError(552, "5.3.4 Message too big"));
        const ids = session.envelope.rcptTo.map((r) => outboxIdFromReturnPath(r.address, domain)).filter((id): id is string => id !== null);
        takeReports(deps, Buffer.concat(chunks), ids).then(
          () => callback(),
          (error: unknown) => {
            deps.logger.error({ err: error }, "bounce listener could not record a bounce");
            callback(smtpError(451, "4.3.0 Try again later"));
          },
        );
      });
    },
  });
  server.on("error", (error) => deps.logger.warn({ err: error }, "bounce listener connection error"));
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The VERP address names the message; the DSN says what happened to each recipient it reports on. Most
 * report on the one address mailed, but a receiving domain that expands a staff address to several
 * mailboxes (a dealership's shared alias) sends one DSN listing each forward it could not reach, some
 * dead, some delayed, each its own Final-Recipient: every recipient's report is recorded (recordBounce),
 * so each forward is counted and the address mailed is marked only by a report naming it. A message takes
 * its own address's report first, then FORWARD_REPORTS_PER_MESSAGE forward reports (reportsTaken): any further
 * are not read (reportsFull would take them as duplicates), so one forged DSN of a megabyte is not thousands
 * of transactions.
 */
async function takeReports(deps: Deps, raw: Buffer, outboxIds: string[]): Promise<void> {
  const reports = await parseDsn(raw).catch(() => []);
  if (reports.length === 0) {
    deps.logger.info({ mail: outboxIds }, "bounce address received mail that is not a delivery failure report; ignored");
    return;
  }
  for (const outboxId of outboxIds) {
    // A message FAMOS never sent (or long removed) is recordBounce's "unknown-message", whichever report.
    const message = await deps.db.selectFrom("outbox").select("recipient").where("id", "=", outboxId).executeTakeFirst();
    for (const report of reportsTaken(reports, message?.recipient ?? "")) {
      const outcome = await recordBounce(deps, { outboxId, kind: report.kind, status: report.status, reason: report.reason, finalRecipient: report.recipient }, "smtp");
      deps.logger.info({ mail: outboxId, bounce: report.kind, outcome: outcome.kind }, "bounce received");
    }
  }
}
