import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { createNotice, endNotice, findNotice, listNotices, updateNotice, type Notice, type NoticeProblem } from "../../notices/notices.ts";
import { HttpProblem } from "../errors.ts";
import { field, parseForm } from "../forms.ts";
import { noticeDetailPage, noticesPage } from "../pages/support-notice-pages.ts";
import { portalFrame } from "./portal.ts";
import { acting } from "./support-acting.ts";
import type { MessageKey, Translator } from "../../i18n/translator.ts";
import type { FieldProblems } from "../field-problems.ts";
import { checkedDoneNotice, ownEventClaim, tr, type CheckedDone } from "../reader.ts";

const HTML = "text/html; charset=utf-8";

/**
 * What a notice's page says after an action (`?done=`): each only after the reader's own event of it on this
 * notice (ownEventClaim); "posted" while the notice is still live, "ended" once it has ended. The list page,
 * where no action lands, says none of them.
 */
function noticeDone(deps: Deps, request: FastifyRequest, notice: Notice): Record<string, CheckedDone> {
  const claim = (key: MessageKey, event: "notice.created" | "notice.updated" | "notice.ended", holds: boolean) =>
    holds ? ownEventClaim(deps, request, key, { event, holds: (d) => d.notice === notice.id }) : async () => undefined;
  return {
    posted: claim("console.done.noticePosted", "notice.created", notice.ended_at === null),
    saved: claim("console.done.noticeSaved", "notice.updated", true),
    ended: claim("console.done.noticeEnded", "notice.ended", notice.ended_at !== null),
  };
}

/** A refused notice's reasons by field, in the reader's language. */
function noticeProblems(t: Translator, problems: NoticeProblem[]): FieldProblems {
  return new Map(problems.map((p) => [p.field, t.said(p.message)]));
}

/** SPEC item 8, "post, edit and end portal notices"; the banner reads them through src/notices. */
export function supportNoticeRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };
  // A notice changes nobody's access: counted toward the person's limit, no step-up (console-guard.ts).
  const counted = { config: { access: "support" as const, consoleWrite: "counted" as const, consoleSection: "notices" as const } };
  const shape = { title: field(400), body: field(16_000) };

  async function notice(request: FastifyRequest): Promise<Notice> {
    const { id } = request.params as { id: string };
    const found = id.length <= 64 ? await findNotice(deps.db, id) : undefined;
    if (!found) throw new HttpProblem(404, "That notice does not exist.");
    return found;
  }

  app.get("/support/notices", support, async (request, reply) =>
    reply.type(HTML).send(noticesPage(await portalFrame(deps, request, reply), await listNotices(deps.db), {})),
  );

  app.post("/support/notices", counted, async (request, reply) => {
    const form = parseForm(shape, request.body);
    const outcome = await createNotice(deps, acting(request).audit, form);
    if (outcome.kind === "saved") return reply.redirect(`/support/notices/${outcome.notice.id}?done=posted`, 303);
    const view = { title: form.title.slice(0, 200), body: form.body.slice(0, 8000), problems: outcome.kind === "invalid" ? noticeProblems(tr(deps, request), outcome.problems) : undefined };
    return reply.code(400).type(HTML).send(noticesPage(await portalFrame(deps, request, reply), await listNotices(deps.db), view));
  });

  app.get("/support/notices/:id", support, async (request, reply) => {
    const shown = await notice(request);
    const info = await checkedDoneNotice(deps, request, noticeDone(deps, request, shown));
    return reply.type(HTML).send(noticeDetailPage(await portalFrame(deps, request, reply), shown, { info }));
  });

  app.post("/support/notices/:id", counted, async (request, reply) => {
    const current = await notice(request);
    const form = parseForm(shape, request.body);
    const outcome = await updateNotice(deps, acting(request).audit, current.id, form);
    if (outcome.kind === "saved") return reply.redirect(`/support/notices/${current.id}?done=saved`, 303);
    if (outcome.kind === "ended") throw new HttpProblem(409, "This notice has ended and can no longer be edited.");
    if (outcome.kind === "not-found") throw new HttpProblem(404, "That notice does not exist.");
    const view = { title: form.title.slice(0, 200), body: form.body.slice(0, 8000), problems: noticeProblems(tr(deps, request), outcome.problems) };
    return reply.code(400).type(HTML).send(noticeDetailPage(await portalFrame(deps, request, reply), current, view));
  });

  app.post("/support/notices/:id/end", counted, async (request, reply) => {
    const current = await notice(request);
    parseForm({}, request.body);
    await endNotice(deps, acting(request).audit, current.id);
    return reply.redirect(`/support/notices/${current.id}?done=ended`, 303);
  });
}
