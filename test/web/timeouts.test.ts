import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

/**
 * Sends a request whose body trickles in a byte at a time (slowloris), at most `bytes` bytes, and
 * tells what the server answered and how much of the body it took before it did.
 */
function trickle(port: number, bytes: number, everyMs: number): Promise<{ answer: string; sent: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      clearInterval(timer);
      socket.destroy();
      resolve({ answer, sent, closedByServer });
    };
    socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${bytes + 1}\r\n\r\n`);
      timer = setInterval(() => {
        if (sent === bytes) return finish(false); // the server let the whole trickle through
        socket.write("a");
        sent += 1;
      }, everyMs);
    });
  });
}

describe("issue 19.6: request and connection timeouts", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("cuts a request whose body trickles in past FAMOS_REQUEST_TIMEOUT, with 408", async () => {
    t = await createTestApp({ env: { FAMOS_REQUEST_TIMEOUT: "1s" } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as AddressInfo;
    // One byte every 100 ms keeps the connection busy (no idle timeout fires); 80 bytes would take 8 s.
    const result = await trickle(port, 80, 100);
    expect(result.closedByServer).toBe(true);
    expect(result.sent).toBeLessThan(80);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("has sane defaults and refuses nonsense, naming the variable", () => {
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.config.timeouts).toEqual({ requestMs: 60_000, connectionMs: 120_000, keepAliveMs: 72_000 });
    const wrong = loadConfig({ FAMOS_REQUEST_TIMEOUT: "0", FAMOS_CONNECTION_TIMEOUT: "forever", FAMOS_KEEP_ALIVE_TIMEOUT: "2h" });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      for (const name of ["FAMOS_REQUEST_TIMEOUT", "FAMOS_CONNECTION_TIMEOUT", "FAMOS_KEEP_ALIVE_TIMEOUT"]) {
        expect(wrong.errors.some((e) => e.startsWith(`${name}:`))).toBe(true);
      }
    }
  });

  it("applies the settings to the HTTP server", async () => {
    t = await createTestApp({ env: { FAMOS_REQUEST_TIMEOUT: "45s", FAMOS_CONNECTION_TIMEOUT: "90s", FAMOS_KEEP_ALIVE_TIMEOUT: "65s" } });
    const server = t.app.server;
    expect([server.requestTimeout, server.timeout, server.keepAliveTimeout]).toEqual([45_000, 90_000, 65_000]);
  });
});
