import { describe, expect, it } from "vitest";
import { checkPublicUrl, checkTrustProxy } from "../../src/doctor/checks.ts";
import { unitConfig } from "../support/unit-app.ts";

/**
 * Doctor's proxy row and the public URL row beside it (src/doctor/checks.ts), for each FAMOS_TRUST_PROXY
 * as the configuration parses it: off and 0 (Fastify's off) say nothing and fail plain http in production;
 * a hop count warns (it trusts no proxy) and fails plain http as off does; true warns of any client's
 * X-Forwarded-For; a list of the proxy's addresses is quiet and lets the proxy's https count (a warning).
 * test/doctor/doctor.test.ts runs the same through the CLI; run C14 found no unit test of it.
 */
describe("doctor: FAMOS_TRUST_PROXY's rows (unit tier)", () => {
  const withProxy = (value: string) => {
    const config = unitConfig({ FAMOS_TRUST_PROXY: value, FAMOS_PUBLIC_URL: "http://famos.dealer.test" });
    return { ...config, production: true, https: false };
  };

  it("parses as the rows expect: off and 0 are off in their own way, 2 a count, true, a list", () => {
    expect(withProxy("off").trustProxy).toBe(false);
    expect(withProxy("0").trustProxy).toBe(0);
    expect(withProxy("2").trustProxy).toBe(2);
    expect(withProxy("1").trustProxy).toBe(1);
    expect(withProxy("true").trustProxy).toBe(true);
    expect(withProxy("10.0.0.5").trustProxy).toEqual(["10.0.0.5"]);
  });

  it("off and 0: no proxy row, plain http in production fails", () => {
    for (const value of ["off", "0"]) {
      expect(checkTrustProxy(withProxy(value)), value).toBeNull();
      expect(checkPublicUrl(withProxy(value)), value).toMatchObject({ status: "fail" });
    }
  });

  it("a hop count (1 too) warns that it trusts no proxy, and plain http fails as without one", () => {
    for (const value of ["1", "2"]) {
      const row = checkTrustProxy(withProxy(value));
      expect(row, value).toMatchObject({ check: "proxy", status: "warn" });
      expect(row!.detail).toContain(`FAMOS_TRUST_PROXY=${value} is a hop count, which trusts no proxy`);
      expect(checkPublicUrl(withProxy(value)), value).toMatchObject({ status: "fail" });
    }
  });

  it("true warns of every client's X-Forwarded-For; a list of addresses is quiet; both let the proxy's https count", () => {
    const any = checkTrustProxy(withProxy("true"));
    expect(any).toMatchObject({ check: "proxy", status: "warn" });
    expect(any!.detail).toContain("FAMOS_TRUST_PROXY=true trusts every client's own X-Forwarded-For");
    expect(checkTrustProxy(withProxy("10.0.0.5"))).toBeNull();
    for (const value of ["true", "10.0.0.5"]) expect(checkPublicUrl(withProxy(value)), value).toMatchObject({ status: "warn" });
  });
});
