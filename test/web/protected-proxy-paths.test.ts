import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { signIn } from "../support/client.ts";
import { startExampleApp } from "./protected-support.ts";

/**
 * The reverse proxy passes the section paths only: a signed-in user cannot reach the application's
 * other paths (an admin area the operator left out of FAMOS_SECTIONS) with dot segments, encoded or
 * not, sent as raw request targets (a browser would normalise them first).
 */
describe("reverse proxy: dot segments out of a section", () => {
  let t: TestApp;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  let port = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    upstream = await startExampleApp((request, response) => {
      seen.push(request.url ?? "");
      if (!(request.url ?? "").startsWith("/quotation")) {
        response.end("outside the sections");
        return true;
      }
      return false;
    });
    t = await createTestApp({ env: { FAMOS_UPSTREAM_URL: upstream.url } });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t.close();
    await upstream.stop();
  });

  /** A raw request target, as a client other than a browser sends it. */
  const raw = (path: string, cookie: string) =>
    new Promise<number>((resolve, reject) => {
      const sent = httpRequest({ host: "127.0.0.1", port, path, headers: { cookie } }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      });
      sent.on("error", reject);
      sent.end();
    });

  it("never forwards a path that leaves the section, and answers it 4xx", async () => {
    const { client } = await signIn(t, { user: await addUser(t.deps) });
    const cookie = client.cookieHeader();
    const targets = ["/quotation/../admin", "/quotation/%2e%2e/admin", "/quotation/..%2fadmin", "/quotation/.%2e/admin", "/quotation/%2E%2E%2Fadmin", "/quotation%2f..%2fadmin", "/quotation/..;/admin", "/quotation/..\\admin"];
    for (const target of targets) {
      seen.length = 0;
      const status = await raw(target, cookie);
      expect(status, target).toBeGreaterThanOrEqual(400);
      expect(status, target).toBeLessThan(500);
      expect(seen, target).toEqual([]);
    }
    seen.length = 0;
    expect(await raw("/quotation", cookie)).toBe(200);
    expect(seen).toEqual(["/quotation"]);
  });
});
