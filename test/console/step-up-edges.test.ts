import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserById } from "../../src/users/users.ts";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, type TestUser } from "../support/client.ts";

const MINUTE = 60_000;

/** One raw HTTP/1.1 request (its target as written, absolute-form too); the answer's status line and body. */
function raw(port: number, method: string, target: string, headers: Record<string, string>, body: string): Promise<{ status: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const lines = Object.entries({ ...headers, host: `127.0.0.1:${port}`, "content-length": String(Buffer.byteLength(body)), connection: "close" }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`${method} ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`);
    });
    let out = "";
    socket.on("data", (chunk) => (out += chunk.toString()));
    socket.on("error", reject);
    socket.on("end", () => resolve({ status: out.split("\r\n", 1)[0]!, body: out.slice(out.indexOf("\r\n\r\n") + 4) }));
  });
}

/** The console's step-up seen by someone looking for a way round it or a way to misuse its page. */
describe.each(["sqlite", "postgres"] as const)("support console: the step-up's edges (%s)", (database) => {
  let t: TestApp;
  let port: number;
  let admin: TestUser;
  let client: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database });
    port = Number(new URL(await listen(t)).port);
    admin = await addUser(t.deps, { role: "admin" });
    client = new FormClient(t.app, "127.0.0.1");
    await signInFully(client, t.smtp, admin);
    t.clock.advance(25 * MINUTE);
    await client.get("/support");
    t.clock.advance(25 * MINUTE);
    await client.get("/support");
    t.clock.advance(11 * MINUTE);
  });
  afterAll(async () => t.close());

  it("the page's form goes to the action's own path, whatever form the request's target took (absolute-form), and is not cached", async () => {
    const user = await addUser(t.deps, {});
    await client.get(`/support/users/${user.id}`);
    const headers = { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded", "user-agent": "famos-test" };
    const form = `_csrf=${encodeURIComponent(client.csrf!)}`;
    const answer = await raw(port, "POST", `http://127.0.0.1:${port}/support/users/${user.id}/unlock?x=1`, headers, form);
    expect(answer.status).toContain("401");
    expect(answer.body).toContain(`<form method="post" action="/support/users/${user.id}/unlock"`);
    // Another host than the Host header's: refused before the route (request-target.ts), no form to type into.
    const elsewhere = await raw(port, "POST", `http://evil.example/support/users/${user.id}/unlock`, headers, form);
    expect(elsewhere.status).toContain("400");
    expect(elsewhere.body).not.toContain("<form");
    expect(elsewhere.body).not.toContain("evil.example");
    const asked = await client.post(`/support/users/${user.id}/unlock`, {});
    expect(asked.statusCode).toBe(401);
    expect(asked.headers["cache-control"]).toBe("no-store");
  });

  it("the password given twice, as JSON, or in a body that is not a form does not skip it", async () => {
    const user = await addUser(t.deps, { email: "kept@dealer.example" });
    await client.get(`/support/users/${user.id}`);
    const reset = `/support/users/${user.id}/reset/confirm`;
    const identity = { name: user.full_name, loginId: user.login_id, partnerNumber: user.partner_number ?? "", ticket: "INC9" };
    const body = new URLSearchParams({ ...identity, _csrf: client.csrf! });
    body.append("stepUpPassword", admin.password);
    body.append("stepUpPassword", admin.password);
    const arrayed = await t.app.inject({ method: "POST", url: reset, headers: { cookie: client.cookieHeader(), "content-type": "application/x-www-form-urlencoded" }, payload: body.toString() });
    expect(arrayed.statusCode).toBe(400);
    const json = await t.app.inject({ method: "POST", url: reset, headers: { cookie: client.cookieHeader(), "content-type": "application/json" }, payload: JSON.stringify({ ...identity, _csrf: client.csrf }) });
    expect([401, 403, 415]).toContain(json.statusCode);
    const text = await t.app.inject({ method: "POST", url: reset, headers: { cookie: client.cookieHeader(), "content-type": "text/plain" }, payload: "anything" });
    expect([401, 403, 415]).toContain(text.statusCode);
    expect((await findUserById(t.deps.db, user.id))!.otp_email).toBe("kept@dealer.example");
  });
});
