/**
 * VERP (variable envelope return path): each message's SMTP MAIL FROM is bounce+<outbox id>@<bounce
 * domain>, so a delivery status notification, which goes to that address (RFC 5321 §4.5.5), names
 * the message it is about whatever the reporting server writes in it.
 */
const PREFIX = "bounce+";
/** Outbox ids are base64url (src/platform/random.ts randomId). */
const ID = /^[A-Za-z0-9_-]{8,64}$/;

export function returnPathFor(outboxId: string, bounceDomain: string): string {
  return `${PREFIX}${outboxId}@${bounceDomain}`;
}

/** The outbox id in one of our own bounce addresses, or null for any other address. */
export function outboxIdFromReturnPath(address: string, bounceDomain: string): string | null {
  const at = address.lastIndexOf("@");
  if (at < 0 || address.slice(at + 1).toLowerCase() !== bounceDomain.toLowerCase()) return null;
  const local = address.slice(0, at);
  if (local.slice(0, PREFIX.length).toLowerCase() !== PREFIX) return null;
  const id = local.slice(PREFIX.length);
  return ID.test(id) ? id : null;
}
