import { describe, expect, it } from "vitest";
import { DEFAULT_WEBSOCKET_MAX_MESSAGE, loadConfig } from "../../src/config/config.ts";
import { TEST_SECRET } from "../support/app.ts";

function load(value?: string) {
  return loadConfig({ FAMOS_SECRET: TEST_SECRET, ...(value === undefined ? {} : { FAMOS_WEBSOCKET_MAX_MESSAGE: value }) });
}

describe("FAMOS_WEBSOCKET_MAX_MESSAGE, the largest message of a proxied WebSocket", () => {
  it("is 1 MiB unless set, and `famos config` shows it so", () => {
    const result = load();
    expect(result.ok && result.config.webSocketMaxMessageBytes).toBe(DEFAULT_WEBSOCKET_MAX_MESSAGE);
    expect(DEFAULT_WEBSOCKET_MAX_MESSAGE).toBe(1024 * 1024);
    expect(result.defaults.get("FAMOS_WEBSOCKET_MAX_MESSAGE")).toBe("1MiB");
  });

  it("takes bytes, KiB or MiB, in any case, from 1 KiB to 64 MiB", () => {
    for (const [value, bytes] of [["65536", 65536], ["64KiB", 65536], ["4mib", 4 * 1024 * 1024], [" 1024 B ", 1024], ["64MiB", 64 * 1024 * 1024]] as const) {
      const result = load(value);
      expect(result.ok ? result.config.webSocketMaxMessageBytes : result.errors, value).toBe(bytes);
    }
  });

  it("refuses anything else with a message that names it and says what it takes, and changes nothing", () => {
    for (const value of ["1MB", "1.5MiB", "-1", "0", "512", "65MiB", "lots", "1GiB", "99999999999999"]) {
      const result = load(value);
      expect(result.ok, value).toBe(false);
      if (!result.ok) {
        expect(result.errors, value).toEqual([`FAMOS_WEBSOCKET_MAX_MESSAGE: must be a size in bytes such as 65536, 512KiB or 4MiB, from 1KiB to 64MiB (got "${value}")`]);
      }
    }
  });
});
