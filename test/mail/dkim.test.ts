import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
// mailauth (Postal Systems, pinned 4.13.3): a maintained DKIM verifier, RFC 6376.
import { dkimVerify } from "mailauth/lib/dkim/verify.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, submitPassword } from "../support/client.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns.ts";

interface DkimResult {
  results: { status: { result: string; comment?: string; aligned?: string | false }; signingDomain: string; selector: string }[];
}

/** Issue 15: FAMOS signs its mail with DKIM (nodemailer's dkim option) and a real verifier accepts it. */
describe("DKIM signing", () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let dir: string;
  let resolver: Resolver;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "famos-dkim-"));
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyFile = join(dir, "dkim.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
    const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    // The selector's public key is published in a DNS server of the test's own (loopback).
    dns = await startDnsServer({ soa: ["test"], txt: { "famos2026._domainkey.famos.test": [`v=DKIM1; k=rsa; p=${p}`] } });
    resolver = new Resolver();
    resolver.setServers([dns.address]);
    t = await createTestApp({ env: { FAMOS_DKIM_DOMAIN: "famos.test", FAMOS_DKIM_SELECTOR: "famos2026", FAMOS_DKIM_KEY_FILE: keyFile } });
  });
  afterAll(async () => {
    await t?.close();
    await dns?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = async (raw: string) =>
    (await dkimVerify(Buffer.from(raw), { resolver: (name: string, type: string) => resolver.resolve(name, type as "TXT") })) as DkimResult;

  it("signs the code email; its signature verifies against the published key, aligned with From", async () => {
    const user = await addUser(t.deps, { email: "signed@dealer.example" });
    await submitPassword(new FormClient(t.app), user.login_id, user.password);
    const mail = await t.smtp.waitForMessage((m) => m.envelopeTo.includes("signed@dealer.example"));
    expect(mail.raw).toMatch(/^DKIM-Signature: .*d=famos\.test/m);
    const result = await verify(mail.raw);
    expect(result.results).toHaveLength(1);
    expect(result.results[0]!.status.result).toBe("pass");
    expect(result.results[0]!.signingDomain).toBe("famos.test");
    expect(result.results[0]!.status.aligned).toBe("famos.test");

    // The same verifier refuses the message once a byte of its body changes.
    const tampered = mail.raw.replace(/(passcode is: )\d/, (_m, lead: string) => `${lead}X`);
    expect(tampered).not.toBe(mail.raw);
    expect((await verify(tampered)).results[0]!.status.result).not.toBe("pass");
  });

  it("refuses to start with only some of the DKIM settings, or a key file that is not an RSA private key", () => {
    const partial = loadConfig({ FAMOS_DKIM_DOMAIN: "famos.test" });
    expect(partial.ok).toBe(false);
    if (!partial.ok) expect(partial.errors.join("\n")).toContain("FAMOS_DKIM_DOMAIN, FAMOS_DKIM_SELECTOR and FAMOS_DKIM_KEY_FILE go together");
    const notKey = join(dir, "not-a-key.pem");
    writeFileSync(notKey, "hello");
    const bad = loadConfig({ FAMOS_DKIM_DOMAIN: "famos.test", FAMOS_DKIM_SELECTOR: "s1", FAMOS_DKIM_KEY_FILE: notKey });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join("\n")).toContain("FAMOS_DKIM_KEY_FILE: is not a PEM private key");
    const edKey = join(dir, "ed25519.pem");
    writeFileSync(edKey, generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const ed = loadConfig({ FAMOS_DKIM_DOMAIN: "famos.test", FAMOS_DKIM_SELECTOR: "s1", FAMOS_DKIM_KEY_FILE: edKey });
    expect(ed.ok).toBe(false);
    if (!ed.ok) expect(ed.errors.join("\n")).toContain("FAMOS_DKIM_KEY_FILE: must hold an RSA private key");
    const missing = loadConfig({ FAMOS_DKIM_DOMAIN: "famos.test", FAMOS_DKIM_SELECTOR: "s1", FAMOS_DKIM_KEY_FILE: join(dir, "nope.pem") });
    if (!missing.ok) expect(missing.errors.join("\n")).toContain("FAMOS_DKIM_KEY_FILE: cannot be read");
    expect(missing.ok).toBe(false);
  });
});
