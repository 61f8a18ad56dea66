import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";

interface Answer {
  status: string;
  head: string;
  body: string;
}

/** One raw HTTP/1.1 request with its target exactly as written (RFC 9112 3.2's four forms); the whole answer. */
function raw(port: number, line: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const all = { host: `127.0.0.1:${port}`, connection: "close", ...headers };
      socket.write(`${line}\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`);
    });
    let out = "";
    socket.on("data", (chunk) => (out += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => {
      const end = out.indexOf("\r\n\r\n");
      resolve({ status: out.split("\r\n", 1)[0]!, head: out.slice(0, end), body: out.slice(end + 4) });
    });
  });
}

/** A served answer that gives nothing away (the rule of test/security/web-defences). */
function plain(answer: Answer): void {
  expect(`${answer.head}\n${answer.body}`).not.toMatch(/fastify|node\.js|v\d+\.\d+\.\d+|stack|at [\w.]+ \(/i);
}

/**
 * A request's target in absolute-form (`GET http://host/path`, RFC 9112 3.2.2, what a browser sends to
 * a forward proxy) is answered as its origin-form path and query: no code of FAMOS sees the other host.
 */
describe("request targets in absolute-, asterisk- and authority-form", () => {
  let t: TestApp;
  let port: number;
  let client: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite" });
    port = Number(new URL(await listen(t)).port);
    const admin = await addUser(t.deps, { role: "admin" });
    client = new FormClient(t.app, "127.0.0.1");
    await signInFully(client, t.smtp, admin);
  });
  afterAll(async () => t.close());

  it("a page that needs a session sends to sign-in with the path and query to return to, never the target's host", async () => {
    const answer = await raw(port, `GET http://127.0.0.1:${port}/support?q=a HTTP/1.1`);
    expect(answer.status).toMatch(/ 30[23] /);
    expect(answer.head).toMatch(/\r\nlocation: \/login\?returnTo=%2Fsupport%3Fq%3Da\r\n/i);
  });

  it("a refusal inside the console leads a signed-in support user back to the console", async () => {
    const answer = await raw(port, `GET http://127.0.0.1:${port}/support/users/no-such-user HTTP/1.1`, { cookie: client.cookieHeader() });
    expect(answer.status).toContain(" 404 ");
    expect(answer.body).toContain('<a href="/support">');
    plain(answer);
  });

  it("a target naming another host than the Host header is refused with the usual page, whatever it names", async () => {
    for (const target of ["http://evil.example/login", "https://evil.example/support/users/x/unlock?a=1", "HTTP://EVIL.example:8080/"]) {
      const answer = await raw(port, `GET ${target} HTTP/1.1`);
      expect(answer.status, target).toContain(" 400 ");
      expect(answer.body).toContain("FAMOS could not read that request.");
      expect(answer.body).not.toContain("evil.example");
      plain(answer);
    }
  });

  it("the same host written differently (case, the scheme's default port) is the same host", async () => {
    const answer = await raw(port, `GET HTTP://LOCALHOST:80/login HTTP/1.1`, { host: "localhost" });
    expect(answer.status).toContain(" 200 ");
  });

  it("asterisk-form with GET or HEAD (RFC 9112 3.2.4: OPTIONS only) is refused with the usual page, not the sign-in page, on HTTP/1.1 and 1.0", async () => {
    for (const version of ["1.1", "1.0"]) {
      for (const method of ["GET", "HEAD"]) {
        const line = `${method} * HTTP/${version}`;
        const answer = await raw(port, line);
        expect(answer.status, line).toContain(" 400 ");
        if (method === "GET") expect(answer.body, line).toContain("FAMOS could not read that request.");
        expect(answer.body, line).not.toContain('name="password"');
        plain(answer);
      }
      // OPTIONS * as before: no route answers it (405), plainly.
      const options = await raw(port, `OPTIONS * HTTP/${version}`);
      expect(options.status).toContain(" 405 ");
      plain(options);
    }
  });

  it("asterisk-form, authority-form and a target in no form are answered with a 4xx, plainly", async () => {
    for (const line of ["OPTIONS * HTTP/1.1", "CONNECT evil.example:443 HTTP/1.1", "GET login HTTP/1.1", "GET ftp://127.0.0.1/login HTTP/1.1", "GET http:///login HTTP/1.1"]) {
      const answer = await raw(port, line);
      expect(answer.status, line).toMatch(/^HTTP\/1\.1 4\d\d /);
      plain(answer);
    }
  });
});
