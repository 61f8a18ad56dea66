import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Deps } from "../../app/deps.ts";
import { listAddressLocks, parseAddress, unlockAddressBy } from "../../support/address-locks.ts";
import { HttpProblem } from "../errors.ts";
import { field, parseForm } from "../forms.ts";
import { addressLocksPage } from "../pages/support-address-pages.ts";
import { portalFrame } from "./portal.ts";
import { acting } from "./support-acting.ts";
import { checkedDoneNotice, ownEventClaim, tr, type CheckedDone } from "../reader.ts";

const HTML = "text/html; charset=utf-8";

/** What the page says after "Unlock address" (`?done=`): only after the reader's own unlock of an address (ownEventClaim). */
function addressDone(deps: Deps, request: FastifyRequest): Record<string, CheckedDone> {
  return { unlocked: ownEventClaim(deps, request, "console.done.addressUnlocked", { event: "address.unlocked" }) };
}

/** The console's page of active address locks, and "Unlock address". */
export function supportAddressRoutes(app: FastifyInstance, deps: Deps): void {
  const support = { config: { access: "support" as const } };

  app.get("/support/addresses", support, async (request, reply) => {
    const info = await checkedDoneNotice(deps, request, addressDone(deps, request));
    return reply.type(HTML).send(addressLocksPage(await portalFrame(deps, request, reply), await listAddressLocks(deps), { info }));
  });

  // Lifting an address's pause lets guessing go on from there: asked as an account's unlock is.
  app.post("/support/addresses/unlock", { config: { access: "support", consoleWrite: "step-up", consoleSection: "addresses" } }, async (request, reply) => {
    const form = parseForm({ address: field(100) }, request.body);
    const parsed = parseAddress(form.address);
    if (!parsed.ok) {
      return reply.code(400).type(HTML).send(addressLocksPage(await portalFrame(deps, request, reply), await listAddressLocks(deps), { error: tr(deps, request).said(parsed.message) }));
    }
    const outcome = await unlockAddressBy(deps, acting(request), parsed.address);
    if (outcome.kind === "forbidden") throw new HttpProblem(403, outcome.message);
    return reply.redirect("/support/addresses?done=unlocked", 303);
  });
}
