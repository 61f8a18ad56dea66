import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const PATHS = ["/dev/mailbox", "/dev/mailbox.json", "/dev/mailbox/nothing-here"];

/**
 * The red team: development mode's mailbox shows the codes FAMOS sent. A page on evil.example whose
 * name a DNS-rebinding attack points at 127.0.0.1 reads it from the same origin (no Origin header to
 * check), its requests carrying `Host: evil.example:3000`. The mailbox answers only a Host that is a
 * loopback name or address, or FAMOS_PUBLIC_URL's host; production never registers it.
 */
describe("the development mailbox answers only loopback and FAMOS_PUBLIC_URL's host", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env: { FAMOS_SMTP_URL: "", FAMOS_PUBLIC_URL: "http://famos.dev.example:3000" } });
  });
  afterAll(async () => u.close());

  const get = (url: string, host: string) => u.app.inject({ method: "GET", url, headers: { host } });

  it.each(["localhost:3000", "localhost", "127.0.0.1:3000", "127.8.9.10", "[::1]:3000", "famos.dev.example:3000", "app.localhost:3000"])("reads the mailbox at Host %s", async (host) => {
    expect((await get("/dev/mailbox", host)).statusCode).toBe(200);
    expect((await get("/dev/mailbox.json", host)).statusCode).toBe(200);
    expect((await get("/dev/mailbox/nothing-here", host)).statusCode).toBe(404);
  });

  it.each(["evil.example:3000", "evil.example", "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.5:3000", "[::2]", "famos.dev.example.evil.example", "user@localhost"])(
    "refuses Host %s on every mailbox path",
    async (host) => {
      for (const path of PATHS) {
        const answer = await get(path, host);
        expect(answer.statusCode, `${host} ${path}`).toBe(403);
        expect(answer.body, `${host} ${path}`).toContain("The development mailbox opens only at a localhost address");
      }
    },
  );
});

describe("production never registers the development mailbox", () => {
  let u: UnitApp;
  beforeAll(async () => {
    u = await createUnitApp({ env: { NODE_ENV: "production", FAMOS_PUBLIC_URL: "https://famos.dealer.example" } });
  });
  afterAll(async () => u.close());

  it.each(PATHS)("%s is not found, even at a loopback Host", async (path) => {
    expect(u.deps.config.production).toBe(true);
    expect((await u.app.inject({ method: "GET", url: path, headers: { host: "localhost" } })).statusCode).toBe(404);
  });
});
