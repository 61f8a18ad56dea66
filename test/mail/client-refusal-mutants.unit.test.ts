import { describe, expect, it } from "vitest";
import { relayRefusalOf } from "../../src/mail/smtp-replies.ts";

const at = (command: string, responseCode: number | undefined, response?: string) => ({ code: "EENVELOPE", command, responseCode, response });
const CLIENT_HOST = "554 5.7.1 <famos-7c9d[192.0.2.7]>: Client host rejected: Access denied";

/**
 * What of FAMOS a relay refuses (relayRefusalOf, src/mail/smtp-replies.ts) where run C14 found the unit
 * tier silent: Postfix's "Client host rejected" at RCPT TO is FAMOS refused as a client (NAMES_CLIENT_HOST),
 * at RCPT TO only and not where relaying is refused outright; a refused HELO is a 4yz or 5yz but 421.
 * test/mail/relay-refuses-client-host.test.ts runs the first against a real SMTP server.
 */
describe("relayRefusalOf: FAMOS refused as a client (unit tier)", () => {
  it("Client host rejected at RCPT TO is 'client', unless the words refuse relaying outright", () => {
    expect(relayRefusalOf(at("RCPT TO", 554, CLIENT_HOST))).toBe("client");
    expect(relayRefusalOf(at("RCPT TO", 554, "554 5.7.1 <jane@dealer.example>: Client host rejected: Relay access denied"))).toBe("relaying");
    expect(relayRefusalOf(at("RCPT TO", 554, "554 5.7.1 <jane@dealer.example>: Relay access denied"))).toBe("relaying");
  });

  it("the same words at MAIL FROM are the sender's refusal, and a sender refused is never 'client'", () => {
    expect(relayRefusalOf(at("MAIL FROM", 554, CLIENT_HOST))).toBe("sender");
    expect(relayRefusalOf(at("MAIL FROM", 553, "553 5.7.1 <no-reply@famos.test>: Sender address rejected: not owned by user"))).toBe("sender");
  });

  it("HELO refused: any 4yz or 5yz (400 too) but 421; no reply code or a 3yz is no refusal", () => {
    expect(relayRefusalOf(at("HELO", 400, "400 try later"))).toBe("client");
    expect(relayRefusalOf(at("HELO", 504, "504 5.5.2 Helo command rejected: need fully-qualified hostname"))).toBe("client");
    expect(relayRefusalOf(at("HELO", 421, "421 4.3.2 Service shutting down"))).toBeNull();
    expect(relayRefusalOf(at("HELO", 354, "354 go ahead"))).toBeNull();
    expect(relayRefusalOf(at("HELO", undefined))).toBeNull();
  });
});
