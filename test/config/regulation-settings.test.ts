import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMIT, loadConfig } from "../../src/config/config.ts";

/** The settings of the three kinds of pause and of the log level: checked at start, all problems together. */
describe("regulation settings", () => {
  it("has SPEC's defaults", () => {
    const loaded = loadConfig({});
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    expect(loaded.config.address).toEqual({ lockAfter: 50, windowMs: 15 * 60_000, trustedNetworks: [] });
    expect(loaded.config.deviceLockAfter).toBe(10);
    expect(loaded.config.rateLimitPerMinute).toBe(DEFAULT_RATE_LIMIT);
    expect(loaded.config.logLevel).toBe("info");
  });

  it("takes trusted networks as addresses and CIDR ranges of either family", () => {
    const loaded = loadConfig({ FAMOS_TRUSTED_NETWORKS: "203.0.113.0/24, 198.51.100.7,2001:db8::/48", FAMOS_ADDRESS_WINDOW: "1h", FAMOS_LOG_LEVEL: "warn" });
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    expect(loaded.config.address.trustedNetworks).toEqual(["203.0.113.0/24", "198.51.100.7", "2001:db8::/48"]);
    expect(loaded.config.address.windowMs).toBe(3_600_000);
    expect(Object.isFrozen(loaded.config.address)).toBe(true);
  });

  it("reports every bad value together, each with its variable's name", () => {
    const loaded = loadConfig({
      FAMOS_ADDRESS_LOCK_AFTER: "0",
      FAMOS_ADDRESS_WINDOW: "forever",
      FAMOS_TRUSTED_NETWORKS: "10.0.0.0/33,dealer.example",
      FAMOS_DEVICE_LOCK_AFTER: "ten",
      FAMOS_LOG_LEVEL: "loud",
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    for (const name of ["FAMOS_ADDRESS_LOCK_AFTER", "FAMOS_ADDRESS_WINDOW", "FAMOS_DEVICE_LOCK_AFTER", "FAMOS_LOG_LEVEL"]) {
      expect(loaded.errors.some((e) => e.startsWith(`${name}:`)), name).toBe(true);
    }
    expect(loaded.errors.filter((e) => e.startsWith("FAMOS_TRUSTED_NETWORKS:"))).toHaveLength(2);
  });
});
