import { createRequire } from "node:module";
import type * as Nodemailer from "nodemailer";
import type * as Shared from "nodemailer/lib/shared";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import type * as SmtpConnectionModule from "nodemailer/lib/smtp-connection";
import { relayRefusalAdvice } from "./relay-pause.ts";
import { mailLanguage, scaledTimeouts, SENDER_TIMEOUTS } from "./transport.ts";

/** Which step of talking to the SMTP server failed. */
export type SmtpStage = "connect" | "tls" | "auth" | "send";

export type SmtpCheck =
  | { ok: true; tls: boolean; authenticated: boolean; sentTo: string | null }
  /** `refused`: the relay answered and refuses FAMOS itself (relayRefusalAdvice leads `detail`): it was reached, so not "… failed". */
  | { ok: false; stage: SmtpStage; detail: string; refused?: true };

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 15_000 };

/**
 * Talks to the SMTP server the way the mail sender will (the same nodemailer URL): connects, upgrades
 * to TLS where the URL asks for it or the server offers STARTTLS, authenticates with the URL's
 * credentials, and with `send` sends a real test message. Says which step failed and the server's
 * answer, so an operator learns of a wrong password before the first user waits for a code.
 */
/** The test message `famos doctor --send-to` sends, written by the caller (in FAMOS_DEFAULT_LOCALE). */
export interface TestMessage {
  subject: string;
  text: string;
  html: string;
}

/** `timeScale`: every wait times this (SendingOptions.timeScale), 1 unless a test shrinks real time. */
export async function checkSmtp(url: string, options: { send?: { to: string; from: string; message: TestMessage }; timeScale?: number } = {}): Promise<SmtpCheck> {
  // Loaded here, by the commands that check (`famos doctor`, serve's start), not by every command.
  const { parseConnectionUrl } = createRequire(import.meta.url)("nodemailer/lib/shared") as typeof Shared;
  const Connection = (createRequire(import.meta.url)("nodemailer/lib/smtp-connection") as typeof SmtpConnectionModule).default;
  const settings: SMTPConnection.Options = { ...parseConnectionUrl(url), ...scaledTimeouts(TIMEOUTS, options.timeScale) };
  const connection = new Connection(settings);
  // SMTPConnection reports a failed connection, TLS upgrade or login as an "error" event rather than
  // through the step's callback: each step ends at whichever comes first.
  let failure: ((error: Error) => void) | null = null;
  connection.on("error", (error: Error) => failure?.(error));
  const step = (run: (done: (error?: Error | null) => void) => void) =>
    new Promise<Error | null>((resolve) => {
      failure = resolve;
      run((error) => resolve(error ?? null));
    });
  try {
    const connected = await step((done) => connection.connect(done));
    if (connected !== null) {
      // A relay that answers and refuses FAMOS (its HELO, a 5yz greeting): the server log's words for it first.
      const refusal = relayRefusalAdvice(connected);
      if (refusal !== null) return { ok: false, stage: "connect", detail: `${refusal}: ${describe(connected)}`, refused: true };
      return { ok: false, stage: isTlsError(connected) ? "tls" : "connect", detail: describe(connected) };
    }
    const tls = connection.secure;
    if (settings.requireTLS && !tls) return { ok: false, stage: "tls", detail: "the server did not offer STARTTLS, which the URL requires" };
    const auth = (settings as { auth?: SMTPConnection.Credentials }).auth;
    if (auth?.user) {
      const login = await step((done) => connection.login(auth, done));
      if (login !== null) return { ok: false, stage: "auth", detail: describe(login) };
    }
    let sentTo: string | null = null;
    if (options.send !== undefined) {
      const { to, from, message } = options.send;
      const nodemailer = createRequire(import.meta.url)("nodemailer") as typeof Nodemailer;
      // As long as the sender waits: a relay that scans content answers the end of DATA late.
      const transport = nodemailer.createTransport({ url, ...scaledTimeouts(SENDER_TIMEOUTS, options.timeScale) } as never);
      try {
        const language = mailLanguage(message.html);
        await transport.sendMail({
          from,
          to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          ...(language ? { headers: { "Content-Language": language } } : {}),
        });
        sentTo = to;
      } catch (error) {
        // The relay's words, then what to fix when it refuses FAMOS itself (the sender's log says the same).
        const advice = relayRefusalAdvice(error);
        return { ok: false, stage: "send", detail: advice === null ? describe(error as Error) : `${describe(error as Error)}: ${advice}` };
      } finally {
        transport.close();
      }
    }
    return { ok: true, tls, authenticated: Boolean(auth?.user), sentTo };
  } finally {
    connection.quit();
    connection.close();
  }
}

/** One line for the result: what worked, or which step failed and why. */
export function describeSmtpCheck(check: SmtpCheck): string {
  if (!check.ok) return check.refused ? check.detail : `${check.stage} failed: ${check.detail}`;
  const parts = ["connected", check.tls ? "TLS" : "no TLS", check.authenticated ? "authenticated" : "no authentication"];
  if (check.sentTo) parts.push(`test message accepted for ${check.sentTo}`);
  return parts.join(", ");
}

function isTlsError(error: Error & { code?: string }): boolean {
  return error.code === "ETLS" || /certificate|tls|ssl|self[- ]signed|wrong version/i.test(error.message);
}

function describe(error: Error & { response?: string; code?: string }): string {
  return (error.response ?? error.message ?? String(error)).replace(/\s+/g, " ").trim();
}
