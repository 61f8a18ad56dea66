import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { activeNotices, findNotice } from "../../notices/notices.ts";
import { afterCommit } from "../after-commit.ts";
import { HttpProblem } from "../errors.ts";
import { rolloutBanner } from "../pages/rollout-banner.ts";
import { signedIn } from "../auth.ts";
import { checkedDoneNotice, tr, type CheckedDone } from "../reader.ts";
import { DONE_CLAIM_MS } from "../../audit/own-events.ts";
import { codeConfirmedRecently } from "../../profile/reauthenticate.ts";
import { homePage, legalPage, noticePage, sectionPlaceholder, type PortalFrame } from "../pages/portal-pages.ts";

const HTML = "text/html; charset=utf-8";

/** The frame's own part: the user, the reader's language, the time and a CSRF token for Sign out. */
function frameOf(deps: Deps, request: FastifyRequest, reply: FastifyReply): PortalFrame {
  return { config: deps.config, t: tr(deps, request), now: deps.clock.now(), csrf: reply.generateCsrf(), user: signedIn(request).user, notices: [] };
}

/** What the frame reads from the database: the notices and the rollout banner. */
async function withStoredParts(deps: Deps, frame: PortalFrame): Promise<PortalFrame> {
  return { ...frame, notices: await activeNotices(deps.db), rollout: await rolloutBanner(deps, frame.user, frame.t) };
}

/** What every portal page needs around its content: the user, the notices and a CSRF token for Sign out. */
export async function portalFrame(deps: Deps, request: FastifyRequest, reply: FastifyReply): Promise<PortalFrame> {
  return withStoredParts(deps, frameOf(deps, request, reply));
}

/**
 * The frame of a page that shows what a committed action produced (recovery codes, a temporary
 * password, shown only this once): its notices and banner are best effort (afterCommit). Without
 * them the page still says what was done, rather than a 503 about an action that happened.
 */
export async function portalFrameAfterCommit(deps: Deps, request: FastifyRequest, reply: FastifyReply): Promise<PortalFrame> {
  const frame = frameOf(deps, request, reply);
  return afterCommit(request, "the portal frame (notices, rollout banner)", () => withStoredParts(deps, frame), () => frame);
}

/**
 * What the home page says after a step that lands there (`?done=`): a Cancel at OTP capture answered after a
 * Confirm of that sign-in (endHalfSignedIn's "moved": the session signed in with a second factor). Said only
 * while the reader's session confirmed its factor within DONE_CLAIM_MS, what the records can check of it.
 */
function homeDone(deps: Deps, request: FastifyRequest): Record<string, CheckedDone> {
  const session = request.famos?.session;
  const confirmed = session !== undefined && codeConfirmedRecently(session, deps.clock.now(), DONE_CLAIM_MS);
  return { "already-signed-in": async (t) => (confirmed ? t.text("home.alreadySignedIn") : undefined) };
}

export async function portalHome(deps: Deps, request: FastifyRequest, reply: FastifyReply) {
  return reply.type(HTML).send(homePage(await portalFrame(deps, request, reply), await checkedDoneNotice(deps, request, homeDone(deps, request))));
}

/** Screen 5: the portal, its notices and, until an upstream is configured, the sections' placeholders. */
export function portalRoutes(app: FastifyInstance, deps: Deps): void {
  if (!deps.config.upstreamUrl) {
    for (const section of deps.config.sections) {
      app.get(section.path, { config: { access: "full" } }, async (request, reply) =>
        reply.type(HTML).send(sectionPlaceholder(await portalFrame(deps, request, reply), section.label, section.path)),
      );
    }
  }

  app.get("/notices/:id", { config: { access: "full" } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const notice = id.length <= 64 ? await findNotice(deps.db, id) : undefined;
    if (!notice) throw new HttpProblem(404, "That notice does not exist.");
    return reply.type(HTML).send(noticePage(await portalFrame(deps, request, reply), notice));
  });

  app.get("/legal", { config: { access: "public" } }, async (request, reply) => reply.type(HTML).send(legalPage(tr(deps, request), deps.config)));
}
