import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import type { Translator } from "../../i18n/translator.ts";
import { html, type SafeHtml } from "../../platform/html.ts";
import { browserParts } from "../../platform/user-agent.ts";
import { endAllOtherSessions, endOtherSession } from "../../session/own-sessions.ts";
import { LISTED_SESSIONS, listUserSessions, type ListedSession } from "../../session/sessions.ts";
import { requestContext, signedIn } from "../auth.ts";
import { parseForm } from "../forms.ts";
import { csrfField, message, scrollingTable } from "../layout.ts";
import { tr } from "../reader.ts";

/**
 * The "your sessions" part of the Profile tab (SPEC item 6: "the user's sessions, with End for each
 * other one"; ASVS 3.3.4): the user's live, fully signed-in sessions (the 50 newest), where and when
 * each started, an "End" form for each one but this, and "End all other sessions" while there is
 * another, which reaches those past the list too.
 */
export async function sessionsSection(deps: Deps, request: FastifyRequest, csrf: string): Promise<SafeHtml> {
  const { user, session: current } = signedIn(request);
  const t = tr(deps, request);
  const { sessions, more } = await listUserSessions(deps.db, user.id, deps.clock.now(), deps.config.session);
  const info = endedInfo(t, request.query as Record<string, unknown>);
  const others = more || sessions.some((s) => s.id !== current.id);
  const field = csrfField(csrf);
  const row = (s: ListedSession) => {
    const started = t.dateTime(s.created_at);
    return html`<tr>
  <td>${started}</td>
  <td>${t.dateTime(s.last_seen_at)}</td>
  <td>${s.ip}</td>
  <td>${describeAgent(t, s.user_agent)}</td>
  <td>${s.id === current.id
    ? t.text("sessions.this")
    : html`<form method="post" action="/profile/sessions/${s.id}/end">${field}<button type="submit" class="secondary" aria-label="${t.text("sessions.endLabel", { at: started, ip: s.ip })}">${t.text("sessions.end")}</button></form>`}</td>
</tr>`;
  };
  return html`<!-- sessions -->
<section aria-labelledby="sessions-heading" id="sessions">
<h2 id="sessions-heading">${t.text("sessions.heading")}</h2>
${message("info", info)}
<p>${t.text("sessions.intro")}</p>
${scrollingTable("sessions-caption", html`<table>
<caption class="visually-hidden" id="sessions-caption">${t.text("sessions.tableCaption")}</caption>
<thead><tr><th scope="col">${t.text("sessions.signedIn")}</th><th scope="col">${t.text("sessions.lastActive")}</th><th scope="col">${t.text("sessions.address")}</th><th scope="col">${t.text("sessions.browser")}</th><th scope="col">${t.text("sessions.action")}</th></tr></thead>
<tbody>${sessions.map(row)}</tbody>
</table>`)}
${more ? html`<p>${t.text("sessions.more", { listed: LISTED_SESSIONS })}</p>` : ""}
${others ? html`<form method="post" action="/profile/sessions/end-others">${field}<div class="buttons"><button type="submit" class="secondary">${t.text("sessions.endOthers")}</button></div></form>` : ""}
</section>`;
}

/** What the page says after "End" (?ended=1, or ?ended=gone for a session not there to end) or "End all other sessions" (?ended=others&count=N). */
function endedInfo(t: Translator, query: Record<string, unknown>): string | undefined {
  if (query.ended === "1") return t.text("sessions.ended");
  if (query.ended === "gone") return t.text("sessions.gone");
  if (query.ended !== "others" || typeof query.count !== "string" || !/^\d{1,6}$/.test(query.count)) return undefined;
  const count = Number(query.count);
  return count === 0 ? t.text("sessions.noOthers") : t.text("sessions.endedOthers", { count });
}

/** Routes of the sessions part (registered by profileRoutes). */
export function profileSessionRoutes(app: FastifyInstance, deps: Deps): void {
  app.post("/profile/sessions/end-others", { config: { access: "full" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm({}, request.body);
    const ended = await endAllOtherSessions(deps, user, session, requestContext(deps, request));
    return reply.redirect(`/profile?ended=others&count=${ended}#sessions`, 303);
  });
  app.post("/profile/sessions/:id/end", { config: { access: "full" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    parseForm({}, request.body);
    const { id } = request.params as { id: string };
    const outcome = await endOtherSession(deps, user, session, id, requestContext(deps, request));
    // Ended meanwhile (from another tab or device), or never this user's: Profile says so beside the
    // list as it is now, not "Page not found" (ASVS 4.2.1 holds: the answer is the same for either).
    if (outcome.kind === "not-found") return reply.redirect("/profile?ended=gone#sessions", 303);
    return reply.redirect("/profile?ended=1#sessions", 303);
  });
}

/**
 * Browser names already worked out, per translator and User-Agent (issue 17: a user's sessions mostly
 * share one browser, and the list may have 50 rows). Bounded: emptied when it reaches AGENTS_KEPT.
 */
const agentNames = new WeakMap<Translator, Map<string, string>>();
const AGENTS_KEPT = 256;

/** A short, readable name for a User-Agent header: enough to recognise one's own browser. */
function describeAgent(t: Translator, agent: string): string {
  let names = agentNames.get(t);
  if (!names) agentNames.set(t, (names = new Map()));
  let name = names.get(agent);
  if (name === undefined) {
    if (names.size >= AGENTS_KEPT) names.clear();
    name = agentName(t, agent);
    names.set(agent, name);
  }
  return name;
}

/** Named as the code email names it (platform/user-agent.ts), in the reader's words; else the header's start. */
function agentName(t: Translator, agent: string): string {
  if (agent === "") return t.text("sessions.unknownBrowser");
  const { browser, system } = browserParts(agent);
  if (browser && system) return t.text("sessions.browserOn", { browser, system });
  return browser ?? system ?? agent.slice(0, 60);
}
