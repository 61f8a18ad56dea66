import { describe, expect, it } from "vitest";
import { deliveryStatusReports, parseDsn } from "../../src/bounce/dsn.ts";
import { dsnFor } from "../support/dsn.ts";
import type { ReceivedMail } from "../support/smtp.ts";
import { outboxIdFromReturnPath, returnPathFor } from "../../src/bounce/verp.ts";

const report = (perRecipient: string) => `Reporting-MTA: dns; mx.dealer.example\n\n${perRecipient}\n`;

describe("RFC 3464 delivery status reports", () => {
  it("calls a failed 5.x.x hard, a delay or a 4.x.x soft, and 5.2.2 (mailbox full) soft as RFC 3463 §3.3 says", () => {
    expect(deliveryStatusReports(report("Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.1.1"))).toEqual([
      { kind: "hard", recipient: "a@b.example", status: "5.1.1", reason: "status 5.1.1" },
    ]);
    expect(deliveryStatusReports(report("Final-Recipient: rfc822; a@b.example\nAction: delayed\nStatus: 4.4.7"))[0]!.kind).toBe("soft");
    expect(deliveryStatusReports(report("Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 4.4.7"))[0]!.kind).toBe("soft");
    expect(deliveryStatusReports(report("Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.2.2"))[0]!.kind).toBe("soft");
  });

  it("RFC 3463: a failed 5.x.x is hard unless it is about something other than the recipient's address (the sender's X.1.7/X.1.8, mailbox full, message size, protocol, content, policy: soft); a relay's generic 5.0.0 and Postfix's 5.4.4 'Host or domain name not found' (a mistyped domain) stay hard", async () => {
    const original = { raw: "From: no-reply@famos.test\r\nTo: a@b.example\r\nSubject: Code\r\n\r\nbody\r\n", envelopeTo: ["a@b.example"], envelopeFrom: "bounce+x@bounces.famos.test" } as unknown as ReceivedMail;
    const kindOf = async (status: string) => (await parseDsn(dsnFor(original, { action: "failed", status, diagnostic: `550 ${status} refused` })))[0]?.kind;
    for (const status of ["5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10", "5.2.1", "5.0.0", "5.4.4", "5.3.0", "5.4.0"]) expect([status, await kindOf(status)]).toEqual([status, "hard"]);
    for (const status of ["5.1.7", "5.1.8", "5.7.1", "5.7.26", "5.3.2", "5.3.4", "5.4.6", "5.4.1", "5.5.0", "5.6.1", "5.2.3", "5.2.2"]) {
      expect([status, await kindOf(status)]).toEqual([status, "soft"]);
    }
  });

  it("ignores delivered, relayed and expanded recipients, and reads a folded Diagnostic-Code", () => {
    expect(deliveryStatusReports(report("Final-Recipient: rfc822; a@b.example\nAction: delivered\nStatus: 2.0.0"))).toEqual([]);
    const [folded] = deliveryStatusReports(report("Action: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 Message\n  rejected by policy"));
    expect(folded!.reason).toBe("550 5.7.1 Message rejected by policy");
  });

  it("finds nothing in a message that is not a report (an auto-reply) or is malformed", async () => {
    expect(await parseDsn("From: a@b.example\r\nSubject: Out of office\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n")).toEqual([]);
    expect(await parseDsn("\u0000\u0001 not a message")).toEqual([]);
  });

  it("makes and reads VERP addresses for its own bounce domain only", () => {
    const address = returnPathFor("Ab-9_xyzXYZ012345678901", "bounces.famos.test");
    expect(address).toBe("bounce+Ab-9_xyzXYZ012345678901@bounces.famos.test");
    expect(outboxIdFromReturnPath(address, "bounces.famos.test")).toBe("Ab-9_xyzXYZ012345678901");
    expect(outboxIdFromReturnPath(address.replace("bounces.famos.test", "BOUNCES.famos.test"), "bounces.famos.test")).toBe("Ab-9_xyzXYZ012345678901");
    for (const other of ["bounce+Ab-9_xyzXYZ012345678901@elsewhere.test", "postmaster@bounces.famos.test", "bounce+x@bounces.famos.test", "bounce+a/b.c.d.e.f.g@bounces.famos.test"]) {
      expect(outboxIdFromReturnPath(other, "bounces.famos.test"), other).toBeNull();
    }
  });
});
