import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type TestDnsServer } from "../support/dns.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * `famos mail check` prints the TXT records it finds. Whoever runs a domain's DNS (or answers in its
 * place) chooses those bytes: an ESC sequence in one must reach the operator's terminal escaped.
 */
describe("famos mail check shows DNS text escaped", () => {
  let cli: CliWorkspace;
  let dns: TestDnsServer;
  beforeAll(async () => {
    cli = cliWorkspace();
    dns = await startDnsServer({
      soa: ["test"],
      txt: {
        "bounces.dealer.test": ["v=spf1 ip4:192.0.2.10 -all\u001b[2J\u001b]0;owned\u0007"],
        "dealer.test": ["v=spf1 -all"],
        "_dmarc.dealer.test": ["v=DMARC1; p=none\u009b8m"],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
    cli?.remove();
  });

  it("a TXT record holding ESC, BEL or a C1 CSI is printed with them as \\u escapes", async () => {
    const env = { FAMOS_MAIL_FROM: "FAMOS <no-reply@dealer.test>", FAMOS_BOUNCE_DOMAIN: "bounces.dealer.test" };
    const result = await cli.run(["mail", "check", "--dns-server", dns.address], { env });
    expect(result.stdout).toContain("v=spf1 ip4:192.0.2.10 -all\\u001b[2J\\u001b]0;owned\\u0007");
    expect(result.stdout).toContain("v=DMARC1; p=none\\u009b8m");
    expect(result.stdout + result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
