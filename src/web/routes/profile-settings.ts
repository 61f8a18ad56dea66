import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { saveUserSettings } from "../../users/locale.ts";
import { signedIn } from "../auth.ts";
import { field, formSchema, parseForm } from "../forms.ts";
import type { ProfileView } from "../pages/profile-pages.ts";
import { rateLimited } from "../rate-limit.ts";
import { tr } from "../reader.ts";

const SETTINGS_FORM = formSchema({ locale: field(16), timeZone: field(64) });

type Render = (request: FastifyRequest, reply: FastifyReply, status: number, view: Partial<ProfileView>) => Promise<unknown>;

/** Issue 16: Profile's "Language" and "Time zone", saved for the user's pages and mails. */
export function profileSettingsRoutes(app: FastifyInstance, deps: Deps, renderProfile: Render): void {
  app.post("/profile/language", { config: { access: "full", ...rateLimited(deps) } }, async (request, reply) => {
    const form = parseForm(SETTINGS_FORM, request.body);
    const outcome = await saveUserSettings(deps, signedIn(request).user, form);
    if (outcome.kind === "invalid") {
      const t = tr(deps, request);
      return renderProfile(request, reply, 400, { settingsError: t.text(outcome.field === "locale" ? "language.unknown" : "profile.badZone") });
    }
    return reply.redirect("/profile?done=settings-saved", 303);
  });
}
