import { describe, expect, it } from "vitest";
import { failureOf, mailFaultOf } from "../../src/mail/smtp-replies.ts";

/**
 * relayUnreachable (src/mail/smtp-replies.ts), the one rule of "no conversation with the relay could
 * begin", case by case as nodemailer reports it: each is "unreachable" (the relay pause: nothing failed
 * for it), and a connection that breaks after the greeting is not (its message is retried as itself).
 * smtp-replies.unit has the refused connection and 421; relay-tls.test the TLS cases over a real server.
 */
const unreachable = { relay: "unreachable", permanent: false };

describe("relayUnreachable", () => {
  it.each([
    ["421 service not available", { code: "EPROTOCOL", command: "CONN", responseCode: 421, response: "421 4.3.2 Service not available" }],
    ["the relay's name not found (nodemailer's EDNS)", { code: "EDNS", command: "CONN" }],
    ["no connection in time", { code: "ETIMEDOUT", command: "CONN", timeoutType: "CONNECT_TIMEOUT" }],
    ["no greeting in time", { code: "ETIMEDOUT", command: "CONN", timeoutType: "GREETING_TIMEOUT" }],
    ["a refused connection", { code: "ESOCKET", command: "CONN", originalCode: "ECONNREFUSED" }],
    ["no route to the host", { code: "ESOCKET", command: "CONN", originalCode: "EHOSTUNREACH" }],
    ["a name that does not resolve, said by the system", { code: "ESOCKET", command: "CONN", originalCode: "ENOTFOUND" }],
  ])("%s: unreachable", (_what, error) => {
    expect(failureOf(error)).toMatchObject(unreachable);
    expect(mailFaultOf(error)).toBe("unreachable");
  });

  // No secure channel: the same pause, its own fault kind ("tls": its own warning, the metric's label),
  // stored as "unreachable" (mailfix, the review of 2026-12-07).
  it.each([
    ["no secure channel (nodemailer's ETLS: STARTTLS required, not offered)", { code: "ETLS", command: "CONN" }],
    ["a certificate refused", { code: "ESOCKET", command: "CONN", originalCode: "CERT_HAS_EXPIRED" }],
    ["a self-signed certificate", { code: "ESOCKET", command: "CONN", originalCode: "DEPTH_ZERO_SELF_SIGNED_CERT" }],
    ["a handshake that failed", { code: "ESOCKET", command: "CONN", originalCode: "ERR_SSL_WRONG_VERSION_NUMBER" }],
  ])("%s: no TLS, the relay's fault", (_what, error) => {
    expect(failureOf(error)).toMatchObject({ relay: "tls", permanent: false });
    expect(mailFaultOf(error)).toBe("unreachable");
  });

  it.each([
    ["a connection reset in the middle of a message", { code: "ESOCKET", command: "DATA", originalCode: "ECONNRESET" }],
    ["a socket fault with no system code", { code: "ESOCKET", command: "CONN" }],
    ["a socket fault of another kind under CONN", { code: "CONN", command: "CONN", originalCode: "ECONNREFUSED" }],
    ["a stalled message", { code: "ETIMEDOUT", command: "DATA", timeoutType: "SOCKET_TIMEOUT" }],
    ["a 4yz of another code", { code: "EPROTOCOL", command: "CONN", responseCode: 420, response: "420 busy" }],
    ["nothing said", {}],
  ])("%s: not unreachable", (_what, error) => {
    expect(failureOf(error).relay).toBeNull();
    expect(mailFaultOf(error)).toBeNull();
  });
});
