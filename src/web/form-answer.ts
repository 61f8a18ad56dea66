import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * The script that turns the history entry of a page answering a form post into one for the page the
 * form was on (public/form-answer.js). A refused code or password is answered with the form again and
 * its status (401, 400, 429), not a redirect: the status is what clients and the tests read. Without
 * this, Back over such a page (a wrong code, then the right one, then Back from the portal) made the
 * browser ask to send the form again ("Confirm form resubmission"), which staff take for a fault and
 * accept, sending the refused code once more. `history.replaceState` drops the entry's post data
 * (HTML "URL and history update steps"), so Back, and a reload, get the form's page afresh by GET.
 */
const SCRIPT = '<script type="module" src="/static/form-answer.js"></script>\n</head>';

/**
 * A FAMOS page sent in answer to a refused form post (status 400 and above: the form again, with why)
 * gets the script; any other answer is left as it is. Not a page a form post led on to (200: the
 * recovery codes after a first passkey): its entry would take the form page's address, and a link
 * from it to that page's section ("/profile#passkeys") would then only scroll, never leave it.
 */
export function withFormAnswerScript(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (request.method !== "POST" || reply.statusCode < 400 || typeof payload !== "string") return payload;
  const type = reply.getHeader("content-type");
  if (typeof type !== "string" || !type.startsWith("text/html")) return payload;
  return payload.replace("</head>", SCRIPT);
}
