import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../../config/config.ts";
import type { Deps } from "../../app/deps.ts";
import { html } from "../../platform/html.ts";
import { tr } from "../reader.ts";
import { HttpProblem } from "../errors.ts";
import { PLAIN_HOST } from "../origin.ts";
import { page } from "../layout.ts";
import { consoleTime } from "../pages/support-pages.ts";

const STATES = { queued: "console.mailState.queued", sending: "console.mailState.sending", sent: "console.mailState.sent", failed: "console.mailState.failed" } as const;

/**
 * The red team: a page on another site whose name DNS rebinding points at 127.0.0.1 reads a developer's
 * mailbox from its own origin (no Origin to check), its requests naming its own host. The mailbox
 * answers only a Host that is a loopback name (localhost, *.localhost: RFC 6761, which browsers never
 * ask DNS for) or address (127.0.0.0/8, [::1]), or FAMOS_PUBLIC_URL's host; 403 for any other.
 */
function mailboxHost(request: FastifyRequest, config: Readonly<Config>): void {
  const name = hostName(request.host);
  const loopback = name === "localhost" || name.endsWith(".localhost") || name === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(name);
  if (!loopback && name !== config.publicUrl.hostname) throw new HttpProblem(403, "The development mailbox opens only at a localhost address or at FAMOS_PUBLIC_URL's host.");
}

/** The Host's name as the URL rules read it (lower case, port dropped), or "" for one that is not a plain host[:port]. */
function hostName(host: string): string {
  if (!PLAIN_HOST.test(host)) return "";
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return "";
  }
}

/**
 * Development only (never registered in production): the outbox read as a mailbox, newest first,
 * so a newcomer can sign in without an SMTP server. In the reader's language and zone, as the
 * console is; the mails themselves are in their recipient's.
 */
export function devMailboxRoutes(app: FastifyInstance, deps: Deps): void {
  // "public": no sign-in needed, but a signed-in reader's saved language and zone apply. Only at a
  // loopback Host or FAMOS_PUBLIC_URL's (mailboxHost), checked before anything is read.
  const open = { config: { access: "public" as const }, onRequest: async (request: FastifyRequest) => mailboxHost(request, deps.config) };
  const recent = () =>
    deps.db
      .selectFrom("outbox")
      .select(["id", "recipient", "subject", "text_body", "created_at", "state"])
      .orderBy("created_at", "desc")
      .limit(100)
      .execute();

  app.get("/dev/mailbox.json", open, async () =>
    (await recent()).map((m) => ({ id: m.id, to: m.recipient, subject: m.subject, text: m.text_body, time: new Date(m.created_at).toISOString(), state: m.state })),
  );

  app.get("/dev/mailbox", open, async (request, reply) => {
    const t = tr(deps, request);
    const messages = await recent();
    const body = html`<h1>${t.text("mailbox.heading")}</h1>
<p class="advice">${t.text("mailbox.intro")}</p>
${messages.length === 0 ? html`<p>${t.text("mailbox.none")}</p>` : ""}
<table><thead><tr><th scope="col">${t.text("console.col.time")}</th><th scope="col">${t.text("console.col.to")}</th><th scope="col">${t.text("console.col.subject")}</th></tr></thead><tbody>
${messages.map((m) => html`<tr><td>${consoleTime(t, m.created_at)}</td><td>${m.recipient}</td><td><a href="/dev/mailbox/${m.id}">${m.subject}</a></td></tr>`)}
</tbody></table>`;
    return reply.type("text/html; charset=utf-8").send(page({ title: t.text("mailbox.heading"), body, config: deps.config, t }));
  });

  app.get("/dev/mailbox/:id", open, async (request, reply) => {
    const t = tr(deps, request);
    const { id } = request.params as { id: string };
    const message = await deps.db.selectFrom("outbox").selectAll().where("id", "=", id.slice(0, 64)).executeTakeFirst();
    if (!message) throw new HttpProblem(404, "No such message.");
    const state = STATES[message.state as keyof typeof STATES];
    const body = html`<h1>${message.subject}</h1>
<dl class="facts"><dt>${t.text("console.col.to")}</dt><dd>${message.recipient}</dd><dt>${t.text("console.col.time")}</dt><dd>${consoleTime(t, message.created_at)}</dd><dt>${t.text("console.notice.state")}</dt><dd>${state ? t.text(state) : message.state}</dd></dl>
<div class="mailbox"><pre>${message.text_body}</pre></div>
<p><a href="/dev/mailbox">${t.text("mailbox.back")}</a></p>`;
    return reply.type("text/html; charset=utf-8").send(page({ title: message.subject, body, config: deps.config, t }));
  });
}
