import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { TEST_SECRET } from "../support/app.ts";

const load = (env: Record<string, string>) => loadConfig({ FAMOS_SECRET: TEST_SECRET, ...env });

/** FAMOS_RP_ID (WebAuthn Level 3 §5.1.3: the RP ID must be the origin's host or a domain it is under). */
describe("the passkey relying party ID", () => {
  it("is FAMOS_PUBLIC_URL's host by default, and unset in development without one (the request's host then)", () => {
    const withUrl = load({ FAMOS_PUBLIC_URL: "https://famos.dealer.example" });
    expect(withUrl.ok && withUrl.config.passkeys.rpId).toBe("famos.dealer.example");
    const dev = load({});
    expect(dev.ok && dev.config.passkeys.rpId).toBeNull();
  });

  it("takes FAMOS_RP_ID when it is the host or a domain the host is under", () => {
    const parent = load({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_RP_ID: "Dealer.Example" });
    expect(parent.ok && parent.config.passkeys.rpId).toBe("dealer.example");
  });

  it("refuses an RP ID the public address is not under, an IP address, or one that is not a domain name", () => {
    for (const rpId of ["other.example", "example.dealer", "127.0.0.1", "https://dealer.example", "dealer..example", "-x.example"]) {
      const result = load({ FAMOS_PUBLIC_URL: "https://famos.dealer.example", FAMOS_RP_ID: rpId });
      expect(result.ok, rpId).toBe(false);
      if (!result.ok) expect(result.errors.join("\n"), rpId).toMatch(/^FAMOS_RP_ID: /m);
    }
  });
});
