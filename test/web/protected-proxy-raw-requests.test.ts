import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser.ts";
import type { FormClient } from "../support/client.ts";
import type { ServerProcess } from "../support/server-process.ts";
import { until, within } from "../support/until.ts";
import { expectStillServing, signedInBehindRawApplication, type BehindRawApplication } from "./protected-support.ts";

/**
 * A real `famos serve` in reverse-proxy mode, sent requests byte for byte on raw sockets (node:net),
 * as an attacker would, with an application behind it that records each request head it receives.
 */

/** The address of the proxy FAMOS_TRUST_PROXY names: another loopback address, whose connections the test makes. */
const TRUSTED_PROXY = "127.0.0.2";

/** One request written as it is (LF made CRLF unless `bare`), the answer read until FAMOS closes the connection; from `from` (a local address). */
function rawRequest(port: number, text: string, bare = false, from = "127.0.0.1"): Promise<string> {
  const bytes = bare ? text : text.replace(/\r?\n/g, "\r\n");
  return within(
    new Promise<string>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress: from }, () => socket.write(bytes));
      let answer = "";
      socket.setEncoding("latin1").on("data", (chunk: string) => (answer += chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(answer));
    }),
    "FAMOS's answer and close",
  );
}

/** The header fields of a request head, names lower-cased, in order. */
function fields(head: string): Array<[string, string]> {
  return head
    .split("\r\n")
    .slice(1)
    .filter((line) => line.includes(":"))
    .map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]);
}

describe("a real `famos serve` in front of the application, sent raw requests", () => {
  let setup: BehindRawApplication;
  let server: ServerProcess;
  let client: FormClient;
  /** The request heads the application received since the test began. */
  let received: string[] = [];
  /** Their bodies, as they came (chunked or not). */
  let bodies: string[] = [];

  const head = (path: string, extra: string) => `GET ${path} HTTP/1.1\nHost: 127.0.0.1:${server.port}\nCookie: ${client.cookieHeader()}\n${extra}Connection: close\n\n`;

  beforeAll(async () => {
    // FAMOS_PUBLIC_URL names the port FAMOS listens on, so that the test client's forms pass the Origin check.
    setup = await signedInBehindRawApplication(
      "proxy_raw_requests",
      (socket) => {
        let buffered = "";
        socket.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("latin1");
          const end = buffered.indexOf("\r\n\r\n");
          if (end < 0) return;
          // The whole request, its body by Content-Length or to the last chunk, before the answer.
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          const chunked = /\r\ntransfer-encoding: *chunked/i.test(buffered.slice(0, end));
          const body = buffered.slice(end + 4);
          if (chunked ? !body.endsWith("0\r\n\r\n") : body.length < length) return;
          received.push(buffered.slice(0, end));
          bodies.push(body);
          buffered = "";
          socket.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
      },
      (famosPort) => ({ FAMOS_PUBLIC_URL: `http://127.0.0.1:${famosPort}`, FAMOS_TRUST_PROXY: TRUSTED_PROXY }),
    );
    ({ server, client } = setup);
  });
  beforeEach(() => {
    received = [];
    bodies = [];
  });
  afterAll(async () => {
    await setup?.stop();
  });

  it("sends the application only FAMOS's own account of where a request came from: the client's Forwarded, X-Real-IP, other X-Forwarded-* and URL overrides never reach it, however spelt; X-Forwarded-Host is FAMOS_PUBLIC_URL's host whatever Host the client sent", async () => {
    const forged = [
      "Forwarded: for=203.0.113.9;host=evil.example;proto=https",
      "X-Real-IP: 203.0.113.9",
      "X_Real_IP: 203.0.113.9",
      "X-Forwarded-Host: evil.example",
      "X-Forwarded-Proto: https",
      "X-Forwarded-Port: 443",
      "X-Forwarded-Prefix: /evil",
      "X-Forwarded-Server: evil.example",
      "X_Forwarded_Host: evil.example",
      "X.Forwarded.Proto: https",
      "X-Original-URL: /admin",
      "X-Rewrite-URL: /admin",
      "True-Client-IP: 203.0.113.9",
      "X-Client-IP: 203.0.113.9",
      "Client-IP: 203.0.113.9",
    ];
    const answer = await rawRequest(server.port, head("/quotation/report", `${forged.join("\n")}\n`).replace(/^Host: .*$/m, "Host: evil.example"));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toHaveLength(1);
    const sent = fields(received[0]!);
    const names = sent.map(([name]) => name);
    for (const line of forged) {
      const name = line.slice(0, line.indexOf(":")).toLowerCase();
      if (!["x-forwarded-host", "x-forwarded-proto"].includes(name)) expect(names, line).not.toContain(name);
    }
    expect(sent.filter(([name]) => name.startsWith("x-forwarded-"))).toEqual([
      ["x-forwarded-for", "127.0.0.1"],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-host", `127.0.0.1:${server.port}`],
    ]);
    expect(sent.find(([name]) => name === "x-famos-login-id")?.[1]).toBe(setup.loginId);
    await expectStillServing(server);
  });

  it("gives the application a client's X-Forwarded-For only through a proxy FAMOS_TRUST_PROXY trusts: a client's own is replaced by the address FAMOS saw", async () => {
    const forwardedFor = () => fields(received.at(-1)!).filter(([name]) => name === "x-forwarded-for");
    expect(await rawRequest(server.port, head("/quotation/report", "X-Forwarded-For: 203.0.113.9\n"))).toMatch(/^HTTP\/1\.1 200 /);
    expect(forwardedFor()).toEqual([["x-forwarded-for", "127.0.0.1"]]);
    expect(await rawRequest(server.port, head("/quotation/report", "X-Forwarded-For: 203.0.113.9\n"), false, TRUSTED_PROXY)).toMatch(/^HTTP\/1\.1 200 /);
    expect(forwardedFor()).toEqual([["x-forwarded-for", `203.0.113.9, ${TRUSTED_PROXY}`]]);
  });

  it("keeps serving after a form post to the application with Connection: close, as nginx sends every non-WebSocket request on section paths configured with the usual $connection_upgrade map, FAMOS_TRUST_PROXY set", async () => {
    const post = `POST /quotation/report HTTP/1.1\nHost: 127.0.0.1:${server.port}\nCookie: ${client.cookieHeader()}\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 11\nConnection: close\n\nquote=12345`;
    expect(await rawRequest(server.port, post, false, TRUSTED_PROXY)).toMatch(/^HTTP\/1\.1 200 /);
    expect(bodies).toEqual(["quote=12345"]);
    await until("the post's log line", () => server.logLines().find((line) => line.msg === "request completed" && (line.req as { url?: string }).url === "/quotation/report" && (line.req as { method?: string }).method === "POST"));
    await expectStillServing(server);
  });

  it.each([
    ["Keep-Alive: timeout=5", "keep-alive"],
    ["Upgrade: h2c", "upgrade"],
    ["TE: trailers", "te"],
    ["Trailer: x-checksum", "trailer"],
    ["Proxy-Connection: keep-alive", "proxy-connection"],
  ])("passes a request carrying the connection's own field %s on to the application without it (RFC 9110 §7.6.1), not answered 502 as if the application were down", async (line, name) => {
    const unavailable = () => server.logLines().filter((entry) => entry.msg === "protected application unavailable").length;
    const before = unavailable();
    const answer = await rawRequest(server.port, head("/quotation/report", `${line}\n`));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toHaveLength(1);
    expect(fields(received[0]!).map(([field]) => field)).not.toContain(name);
    expect(unavailable()).toBe(before);
  });

  it("passes a chunked body on whole, however its chunks were cut and with chunk extensions; with Connection: close and FAMOS_TRUST_PROXY set, its log line no longer ends famos serve", async () => {
    const text = `POST /quotation/report HTTP/1.1\nHost: 127.0.0.1:${server.port}\nCookie: ${client.cookieHeader()}\nContent-Type: text/plain\nTransfer-Encoding: chunked\nConnection: close\n\n5;note="a b"\nhello\n6\n world\n0\n\n`;
    expect(await rawRequest(server.port, text)).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toHaveLength(1);
    const framing = fields(received[0]!).filter(([name]) => name === "content-length" || name === "transfer-encoding");
    expect(framing).toHaveLength(1);
    const body = framing[0]![0] === "content-length" ? bodies[0] : bodies[0]!.replace(/(^|\r\n)[0-9a-f]+(;[^\r]*)?\r\n/gi, "").replace(/\r\n$/, "");
    expect(body).toBe("hello world");
    // Node had detached the connection when the request's log line was written, and Fastify's
    // request.ip (FAMOS_TRUST_PROXY) threw there: a TypeError on standard error, the process gone.
    await until("the upload's log line", () => server.logLines().find((line) => line.msg === "request completed" && (line.req as { method?: string }).method === "POST"));
    await expectStillServing(server);
  });

  it.each([
    ["Content-Length beside Transfer-Encoding", "POST /quotation/a HTTP/1.1\nHost: H\nCookie: C\nContent-Length: 6\nTransfer-Encoding: chunked\n\n0\n\nGET /quotation/smuggled HTTP/1.1\nHost: H\n\n"],
    ["two Content-Lengths", "POST /quotation/a HTTP/1.1\nHost: H\nCookie: C\nContent-Length: 5\nContent-Length: 44\n\nhello"],
    ["an obs-fold continuation line", "GET /quotation/a HTTP/1.1\nHost: H\nCookie: C\nX-Note: a\n X-Famos-Role: admin\n\n"],
    ["Transfer-Encoding that is not chunked last", "POST /quotation/a HTTP/1.1\nHost: H\nCookie: C\nTransfer-Encoding: chunked, identity\n\n3\nabc\n0\n\n"],
    ["a blank before a header's colon", "POST /quotation/a HTTP/1.1\nHost: H\nCookie: C\nTransfer-Encoding : chunked\nContent-Length: 3\n\nabc"],
  ])("refuses a request with %s (request smuggling) with 400, and the application receives nothing", async (_what, text) => {
    const answer = await rawRequest(server.port, text.replace(/Host: H/g, `Host: 127.0.0.1:${server.port}`).replace("Cookie: C", `Cookie: ${client.cookieHeader()}`));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toEqual([]);
  });

  it("refuses header lines ended by a bare LF, or a chunk extension holding one, with 400; the application receives nothing", async () => {
    const cookie = client.cookieHeader();
    expect(await rawRequest(server.port, `GET /quotation/a HTTP/1.1\nHost: 127.0.0.1:${server.port}\nCookie: ${cookie}\n\n`, true)).toMatch(/^HTTP\/1\.1 400 /);
    const chunked = `POST /quotation/a HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nCookie: ${cookie}\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\nhello\r\n0\r\n\r\n`;
    expect(await rawRequest(server.port, chunked, true)).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toEqual([]);
  });

  describe("a request whose headers are over Node's limit (16 KiB)", () => {
    /** Twenty application cookies of 900 bytes, tagged for some user (the tag's 12 base64url characters). */
    const bloated = Array.from({ length: 20 }, (_, i) => `app_state${i}.AbCdEfGh_-12=${"v".repeat(900)}`);

    /** The answer's status line, its Set-Cookie lines and its body. */
    function parts(answer: string) {
      const end = answer.indexOf("\r\n\r\n");
      const lines = answer.slice(0, end).split("\r\n");
      return {
        status: lines[0],
        header: (name: string) => lines.filter((line) => line.toLowerCase().startsWith(`${name}:`)).map((line) => line.slice(name.length + 1).trim()),
        body: answer.slice(end + 4),
      };
    }

    it("gets a page that says why, and has the application's cookies it carried expired, so that the next request gets through without clearing cookies by hand", async () => {
      const answer = parts(await rawRequest(server.port, head("/quotation/report", "").replace(/^Cookie: (.*)$/m, (_line, own: string) => `Cookie: ${own}; ${bloated.join("; ")}`)));
      expect(answer.status).toBe("HTTP/1.1 431 Request Header Fields Too Large");
      expect(answer.header("content-type")).toEqual(["text/html; charset=utf-8"]);
      expect(answer.header("cache-control")).toEqual(["no-store"]);
      expect(answer.body).toContain("<h1>Request too large</h1>");
      expect(answer.body).toContain("too many or too large cookies");
      expect(answer.header("set-cookie").sort()).toEqual(bloated.map((pair) => `${pair.split("=")[0]}=; Max-Age=0; Path=/`).sort());
      expect(received).toEqual([]);
      // The browser, those cookies expired, sends its own (FAMOS's session among them) again: signed in still.
      expect(await rawRequest(server.port, head("/quotation/report", ""))).toMatch(/^HTTP\/1\.1 200 /);
      expect(received).toHaveLength(1);
      await until("the refusal's log line", () => server.logLines().find((line) => line.msg === "request refused: its headers are over Node's limit"));
      expect(server.logLines().find((line) => line.msg === "request refused: its headers are over Node's limit")).toMatchObject({ level: 40, expired: 20 });
    });

    it("in Chromium: the 431 page is shown, the browser drops the application's cookies, keeps FAMOS's, and the next visit reaches the application", async () => {
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        const cookies = [...client.cookies, ...bloated.map((pair) => pair.split("=") as [string, string])];
        await context.addCookies(cookies.map(([name, value]) => ({ name, value, url: server.url })));
        const page = await context.newPage();
        const refused = await page.goto(`${server.url}/quotation/report`);
        expect(refused?.status()).toBe(431);
        await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Request too large");
        const held = (await context.cookies()).map((cookie) => cookie.name);
        expect(held.filter((name) => name.startsWith("app_state"))).toEqual([]);
        expect(held).toContain("famos_session");
        const through = await page.goto(`${server.url}/quotation/report`);
        expect(through?.status()).toBe(200);
        expect(await through?.text()).toBe("ok");
      } finally {
        await browser.close();
      }
    });

    it("expires nothing when what is too large is not the cookies (a link of another site, with a 17 KiB address, cannot wipe the application's cookies)", async () => {
      const answer = parts(await rawRequest(server.port, head(`/quotation/report?q=${"a".repeat(17_000)}`, "").replace(/^Cookie: (.*)$/m, (_line, own: string) => `Cookie: ${own}; ${bloated[0]!}`)));
      expect(answer.status).toBe("HTTP/1.1 431 Request Header Fields Too Large");
      expect(answer.body).toContain("<h1>Request too large</h1>");
      expect(answer.header("set-cookie")).toEqual([]);
      await expectStillServing(server);
    });
  });
});
