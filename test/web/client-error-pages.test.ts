import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { translator } from "../../src/i18n/translator.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

/** Writes `request` on a new connection (then, if given, one byte every `trickleMs`) and returns all the server answered. */
function raw(port: number, request: string, trickleMs?: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on("data", (chunk) => (answer += chunk.toString("utf8")));
    socket.on("close", done);
    socket.on("error", done);
    socket.on("connect", () => {
      socket.write(request);
      if (trickleMs) timer = setInterval(() => socket.write("a"), trickleMs);
    });
  });
}

/**
 * QA: Node's own answers to a request it cannot read, the 400 of a malformed request and the 408 of
 * one that did not arrive in time, were a line of JSON in the browser; FAMOS's other error pages, the
 * 431 among them, are a page in the reader's language with a way back to sign in.
 */
describe("Node's 400 and 408 are FAMOS pages in the reader's language", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    t = await createTestApp({ env });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    return (t.app.server.address() as AddressInfo).port;
  }

  it("400 for a request that breaks HTTP/1.1, in German from its Accept-Language", async () => {
    const port = await start();
    const answer = await raw(port, `GET /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept-Language: de-DE,de;q=0.9\r\nBad Header Line\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\ncontent-type: text\/html; charset=utf-8\r\n/i);
    expect(answer).toContain('<html lang="de"');
    const de = translator("de", "Europe/London");
    expect(answer).toContain(de.text("said.unreadable"));
    expect(answer).toContain(`<a href="/">${de.text("error.goToSignIn")}</a>`);
  });

  it("a client that asks for JSON only still gets JSON", async () => {
    const port = await start();
    const answer = await raw(port, `GET /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\nBad Header Line\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\ncontent-type: application\/json/i);
  });

  it("408 for a request that did not arrive in time, in French", async () => {
    const port = await start({ FAMOS_REQUEST_TIMEOUT: "1s" });
    const request = `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept-Language: fr\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n`;
    const answer = await raw(port, request, 100);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toMatch(/\r\ncontent-type: text\/html; charset=utf-8\r\n/i);
    const fr = translator("fr", "Europe/London");
    expect(answer).toContain(fr.text("error.requestTimeout"));
    expect(answer).toContain(`<h1>${fr.text("error.title408")}</h1>`);
  });
});
