import type { FastifyInstance } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { formatDateTime } from "../../platform/format.ts";
import { html } from "../../platform/html.ts";
import { tr } from "../reader.ts";
import { HttpProblem } from "../errors.ts";
import { page } from "../layout.ts";

/**
 * Development only (never registered in production): the outbox read as a mailbox, newest first,
 * so a newcomer can sign in without an SMTP server.
 */
export function devMailboxRoutes(app: FastifyInstance, deps: Deps): void {
  const recent = () =>
    deps.db
      .selectFrom("outbox")
      .select(["id", "recipient", "subject", "text_body", "created_at", "state"])
      .orderBy("created_at", "desc")
      .limit(100)
      .execute();

  app.get("/dev/mailbox.json", async () =>
    (await recent()).map((m) => ({ id: m.id, to: m.recipient, subject: m.subject, text: m.text_body, time: new Date(m.created_at).toISOString(), state: m.state })),
  );

  app.get("/dev/mailbox", async (_request, reply) => {
    const tz = deps.config.timezone;
    const messages = await recent();
    const body = html`<h1>Development mailbox</h1>
<p class="advice">Mail FAMOS would have sent, newest first. This page exists only in development mode, when no FAMOS_SMTP_URL is set.</p>
${messages.length === 0 ? html`<p>No mail yet.</p>` : ""}
<table><thead><tr><th scope="col">Time</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>
${messages.map((m) => html`<tr><td>${formatDateTime(m.created_at, tz)}</td><td>${m.recipient}</td><td><a href="/dev/mailbox/${m.id}">${m.subject}</a></td></tr>`)}
</tbody></table>`;
    return reply.type("text/html; charset=utf-8").send(page({ title: "Development mailbox", body, config: deps.config, t: tr(deps, _request) }));
  });

  app.get("/dev/mailbox/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    const message = await deps.db.selectFrom("outbox").selectAll().where("id", "=", id.slice(0, 64)).executeTakeFirst();
    if (!message) throw new HttpProblem(404, "No such message.");
    const body = html`<h1>${message.subject}</h1>
<dl class="facts"><dt>To</dt><dd>${message.recipient}</dd><dt>Time</dt><dd>${formatDateTime(message.created_at, deps.config.timezone)}</dd><dt>State</dt><dd>${message.state}</dd></dl>
<div class="mailbox"><pre>${message.text_body}</pre></div>
<p><a href="/dev/mailbox">Back to the mailbox</a></p>`;
    return reply.type("text/html; charset=utf-8").send(page({ title: message.subject, body, config: deps.config, t: tr(deps, request) }));
  });
}
