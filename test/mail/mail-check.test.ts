import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "../cli/run-famos.ts";
import { closedDnsAddress, startDnsServer, type TestDnsServer } from "../support/dns.ts";

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    p: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** Issue 15: `famos mail check` looks up SPF, DKIM and DMARC, and says plainly when it cannot. */
describe("famos mail check", () => {
  let cli: CliWorkspace;
  let dns: TestDnsServer;
  let env: Record<string, string>;
  const signing = keyPair();
  const other = keyPair();

  beforeAll(async () => {
    cli = cliWorkspace();
    const keyFile = join(cli.dir, "dkim.pem");
    writeFileSync(keyFile, signing.pem, { mode: 0o600 });
    env = {
      FAMOS_MAIL_FROM: "FAMOS <no-reply@dealer.test>",
      FAMOS_BOUNCE_DOMAIN: "bounces.dealer.test",
      FAMOS_DKIM_DOMAIN: "dealer.test",
      FAMOS_DKIM_SELECTOR: "famos1",
      FAMOS_DKIM_KEY_FILE: keyFile,
    };
    dns = await startDnsServer({
      soa: ["test"],
      txt: {
        "bounces.dealer.test": ["v=spf1 ip4:192.0.2.10 -all"],
        "dealer.test": ["google-site-verification=abc", "v=spf1 include:_spf.relay.test -all"],
        "famos1._domainkey.dealer.test": [`v=DKIM1; k=rsa; p=${signing.p}`],
        "other._domainkey.dealer.test": [`v=DKIM1; k=rsa; p=${other.p}`],
        "_dmarc.dealer.test": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@dealer.test"],
      },
    });
  });
  afterAll(async () => {
    await dns?.stop();
    cli?.remove();
  });

  it("finds SPF for the bounce and From domains, the DKIM key FAMOS signs with, and DMARC: exit 0", async () => {
    const result = await cli.run(["mail", "check", "--dns-server", dns.address], { env });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("SPF   bounces.dealer.test: published, v=spf1 ip4:192.0.2.10 -all");
    expect(result.stdout).toContain("SPF   dealer.test: published, v=spf1 include:_spf.relay.test -all");
    expect(result.stdout).toContain("DKIM  famos1._domainkey.dealer.test: published");
    expect(result.stdout).toContain("DMARC _dmarc.dealer.test: published, v=DMARC1; p=quarantine");
  });

  it("tells a DKIM record with another key and a missing record apart, exit 1", async () => {
    const result = await cli.run(["mail", "check", "--dns-server", dns.address], {
      env: { ...env, FAMOS_DKIM_SELECTOR: "other", FAMOS_MAIL_FROM: "FAMOS <no-reply@nodmarc.dealer.test>" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("DKIM  other._domainkey.dealer.test: different, the published key (p=) is not the public half of FAMOS_DKIM_KEY_FILE");
    expect(result.stdout).toContain("DMARC _dmarc.nodmarc.dealer.test: missing");
    expect(result.stderr).toMatch(/DKIM different, .*DMARC missing/);
  });

  it("says plainly that DNS cannot be reached when no DNS server answers", async () => {
    const result = await cli.run(["mail", "check", "--dns-server", await closedDnsAddress()], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("DNS cannot be reached from here (ECONNREFUSED");
    expect(result.stderr).toContain("SPF, DKIM and DMARC were not checked");
  });
});
