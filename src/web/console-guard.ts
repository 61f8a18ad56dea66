import type { FastifyInstance, FastifyReply, FastifyRequest, onSendAsyncHookHandler, preHandlerAsyncHookHandler } from "fastify";
import type { Deps } from "../app/deps.ts";
import type { Actor } from "../audit/audit.ts";
import { countConsoleAction, settleConsoleAction, CONSOLE_ACTIONS_LIMIT, CONSOLE_ACTIONS_WINDOW_MS } from "../regulation/console-actions.ts";
import type { Counted } from "../regulation/counter.ts";
import { consoleStepUp } from "../support/step-up.ts";
import { requestContext, signedIn } from "./auth.ts";
import { fieldProblem } from "./forms.ts";
import { consoleLimitPage, stepUpPage } from "./pages/support-step-up-pages.ts";
import type { SupportSection } from "./pages/support-pages.ts";
import { pauseEnd, pauseText } from "./pause-messages.ts";
import { portalFrame } from "./routes/portal.ts";
import { tr } from "./reader.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * A console route that changes something: "counted" toward its person's limit of changes
     * (regulation/console-actions.ts); "step-up" also asks for the password again when the session's
     * code is old (support/step-up.ts), for an action on another account's access.
     */
    consoleWrite?: "counted" | "step-up";
    /**
     * The console section a `consoleWrite` route belongs to (required with it): the step-up and limit
     * pages mark it, and their Cancel leads back to it (whereFrom).
     */
    consoleSection?: SupportSection;
  }
}

/** The step-up page's password field; taken out of the form before the route reads it. */
export const STEP_UP_FIELD = "stepUpPassword";

const HTML = "text/html; charset=utf-8";

/** A counted change's reservation, settled when its answer is sent (settleChange). */
const pending = new WeakMap<FastifyRequest, { counted: Counted; actor: Actor }>();

/**
 * Declared per route (`consoleWrite`), enforced here in one place, as `access` is by the session
 * hook: each such route gets this check as a preHandler of its own when it is added, after the
 * session, CSRF and role checks, and its count settled as its answer is sent (onSend, before the
 * browser sees it); no other request pays for either. Call before any route is registered.
 */
export function registerConsoleWriteGuard(app: FastifyInstance, deps: Deps): void {
  app.addHook("onRoute", (route) => {
    const config = route.config as { consoleWrite?: "counted" | "step-up"; consoleSection?: SupportSection } | undefined;
    const rule = config?.consoleWrite;
    if (!rule) return;
    const section = config.consoleSection;
    if (!section) throw new Error(`console write route ${route.method} ${route.url} names no consoleSection in its config`);
    const guard: preHandlerAsyncHookHandler = async (request, reply) => guardConsoleWrite(deps, request, reply, rule, section);
    const settle: onSendAsyncHookHandler = async (request, reply, payload) => {
      await settleChange(deps, request, reply.statusCode);
      return payload;
    };
    route.preHandler = [guard, ...asList(route.preHandler)];
    route.onSend = [...asList(route.onSend), settle];
  });
}

function asList<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** The action answered: a change made (2xx, 3xx) stays counted; a refusal (4xx, 5xx) changed nothing and gives its count back. */
async function settleChange(deps: Deps, request: FastifyRequest, status: number): Promise<void> {
  const change = pending.get(request);
  if (!change) return;
  pending.delete(request);
  await settleConsoleAction(deps.db, change.counted, status < 400, change.actor, deps.clock.now());
}

async function guardConsoleWrite(deps: Deps, request: FastifyRequest, reply: FastifyReply, rule: "counted" | "step-up", section: SupportSection): Promise<FastifyReply | undefined> {
  const by = signedIn(request);
  const form = request.body !== null && typeof request.body === "object" ? (request.body as Record<string, unknown>) : {};
  const typed = form[STEP_UP_FIELD];
  if (typed !== undefined && typeof typed !== "string") throw fieldProblem(STEP_UP_FIELD, "missing");
  delete form[STEP_UP_FIELD];
  const ctx = requestContext(deps, request);
  if (rule === "step-up") {
    const proof = await consoleStepUp(deps, by, typed ? typed : null, ctx, `${request.method} ${request.routeOptions.url ?? request.url}`);
    if (proof.kind !== "ok") {
      const t = tr(deps, request);
      const error = proof.kind === "locked" ? pauseText(deps, proof, t) : proof.kind === "password-wrong" ? t.text("profile.passwordWrong") : undefined;
      const view = { action: ownPath(request), fields: keptFields(form), ...whereFrom(request, section), error, refused: proof.kind !== "password-needed" };
      return reply.code(proof.kind === "locked" ? 429 : 401).type(HTML).send(stepUpPage(await portalFrame(deps, request, reply), view));
    }
  }
  const now = deps.clock.now();
  const counted = await countConsoleAction(deps.db, by.user.id, now);
  if (counted.ok) pending.set(request, { counted: counted.counted, actor: { actor: by.user.login_id, ip: ctx.ip, userAgent: ctx.userAgent } });
  else {
    const t = tr(deps, request);
    const text = t.text("console.limit.reached", { count: String(CONSOLE_ACTIONS_LIMIT), window: t.duration(CONSOLE_ACTIONS_WINDOW_MS), until: pauseEnd(t, counted.until) });
    reply.header("retry-after", String(Math.max(1, Math.ceil((counted.until - now) / 1000))));
    return reply.code(429).type(HTML).send(consoleLimitPage(await portalFrame(deps, request, reply), text, section));
  }
  return undefined;
}

/** The posted form's fields but its CSRF token, in order, a repeated one as many times. */
function keptFields(form: Record<string, unknown>): [string, string][] {
  return Object.entries(form).flatMap(([name, value]) => (name === "_csrf" ? [] : (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string").map((v) => [name, v] as [string, string])));
}

/**
 * The action's own path, for the step-up page's form: the request's url is always in origin-form (a
 * target in absolute-form, `POST http://elsewhere.example/support/…`, is reduced to its path before
 * routing: request-target.ts), so the path is its part before the query.
 */
function ownPath(request: FastifyRequest): string {
  return request.url.split("?", 1)[0]!;
}

/** The console section an action belongs to (its route's consoleSection), and the page its Cancel leads back to. */
function whereFrom(request: FastifyRequest, section: SupportSection): { section: SupportSection; cancel: string } {
  if (section !== "users") return { section, cancel: `/support/${section}` };
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return { section, cancel: typeof id === "string" ? `/support/users/${encodeURIComponent(id)}` : "/support" };
}
