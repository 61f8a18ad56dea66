import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { html } from "../../platform/html.ts";
import { tr } from "../reader.ts";
import { HttpProblem } from "../errors.ts";
import { page } from "../layout.ts";
import { consoleTime } from "../pages/support-pages.ts";

const STATES = { queued: "console.mailState.queued", sending: "console.mailState.sending", sent: "console.mailState.sent", failed: "console.mailState.failed" } as const;

/**
 * Development only (never registered in production): the outbox read as a mailbox, newest first,
 * so a newcomer can sign in without an SMTP server. In the reader's language and zone, as the
 * console is; the mails themselves are in their recipient's.
 */
export function devMailboxRoutes(app: FastifyInstance, deps: Deps): void {
  // "public": no sign-in needed, but a signed-in reader's saved language and zone apply.
  const open = { config: { access: "public" as const } };
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
