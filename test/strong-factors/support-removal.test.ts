import { userInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { factorsOf } from "../../src/strong-factors/factors.ts";
import { addUser } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { useCliApp } from "../cli/run-famos.ts";
import { setUpAppOnProfile } from "./helpers.ts";

const REMOVED_SUBJECT = "Your FAMOS passkeys and authenticator app were removed";
const TICKET_PROBLEM = "Enter the ticket reference of the request (1 to 64 characters).";
/** Tickets the one rule refuses (src/support/ticket.ts): a C1 CSI, and one character too many. */
const BAD_TICKETS = ["INC\u009b2J", "T".repeat(65)];

describe("support removes a user's second factors (console and CLI)", { timeout: 120_000 }, () => {
  const f = useCliApp();

  /** Nothing happened to the user: the factors, no factors.removed event, no mail about it. */
  async function expectUntouched(user: { id: string; login_id: string }) {
    expect(await factorsOf(f.t.deps.db, user.id)).toMatchObject({ recoveryCodesLeft: 10 });
    expect((await factorsOf(f.t.deps.db, user.id)).app).not.toBeNull();
    expect(await queryAudit(f.t.deps.db, { subject: user.login_id, event: "factors.removed" })).toEqual([]);
    expect(await f.t.deps.db.selectFrom("outbox").select("id").where("user_id", "=", user.id).where("kind", "=", "notice.factors-removed").execute()).toEqual([]);
  }

  async function withApp(role: "user" | "support" | "admin", ip: string) {
    const user = await addUser(f.t.deps, { role });
    const client = new FormClient(f.t.app, ip);
    await signInFully(client, f.t.smtp, user);
    await setUpAppOnProfile(f.t, client);
    return { user, client };
  }

  it("the user page shows the factors; Remove second factors asks to confirm, then removes them, ends the sessions, mails and audits", async () => {
    const { user: target, client: targetSession } = await withApp("user", "10.30.0.1");
    const { user: agent, client } = await withApp("support", "10.30.0.2");
    const page = await client.get(`/support/users/${target.id}`);
    expect(page.body).toContain("authenticator app (set up");
    expect(page.body).toContain("10 recovery codes left");
    const confirm = await client.post(`/support/users/${target.id}/factors`, {});
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain("Confirm removal");
    expect(await factorsOf(f.t.deps.db, target.id)).toMatchObject({ recoveryCodesLeft: 10 });
    const done = await client.post(`/support/users/${target.id}/factors/confirm`, { ticket: "INC-13" });
    expect(done.headers.location).toBe(`/support/users/${target.id}?done=factors-removed`);
    // Said: this person's event removed an app and codes (ownRecentEvents); a removal of nothing says nothing (user-page-claims).
    expect((await client.get(done.headers.location as string)).body).toContain("passkeys, authenticator app and recovery codes were removed");
    expect(await factorsOf(f.t.deps.db, target.id)).toMatchObject({ app: null, appPending: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect((await targetSession.get("/profile")).statusCode).toBe(303);
    const [event] = await queryAudit(f.t.deps.db, { subject: target.login_id, event: "factors.removed" });
    expect(event!.actor).toBe(agent.login_id);
    expect(event!.detail).toMatchObject({ app: true, recoveryCodes: 10, ticket: "INC-13" });
    await f.t.smtp.waitForMessage((m) => m.envelopeTo.includes(target.otp_email!) && m.subject === REMOVED_SUBJECT);
    expect((await client.get(`/support/users/${target.id}`)).body).toContain("Emailed code only");
  });

  it("a ticket the rule refuses (a C1 character, 65, 201 or 10,000 characters posted directly) gets the page again with the reason, 400, and nothing is removed; 64 characters are taken", async () => {
    const { user: target, client: targetSession } = await withApp("user", "10.33.0.1");
    const { client } = await withApp("support", "10.33.0.2");
    const confirm = await client.post(`/support/users/${target.id}/factors`, {});
    expect(confirm.body).toContain('maxlength="64"');
    // Past the form parser's 200 a ticket used to get its generic "too long" instead of the ticket's reason.
    for (const ticket of [...BAD_TICKETS, "T".repeat(201), "T".repeat(10_000)]) {
      const refused = await client.post(`/support/users/${target.id}/factors/confirm`, { ticket });
      expect(refused.statusCode, JSON.stringify(ticket)).toBe(400);
      expect(refused.body).toContain("Confirm removal");
      // Beside the field and read with it (the summary at the top links to it).
      expect(refused.body).toContain(`<p class="field-problem" id="ticket-problem">${TICKET_PROBLEM}</p>`);
      expect(refused.body).toMatch(/<input [^>]*id="ticket"[^>]*aria-invalid="true" aria-describedby="ticket-problem"/);
      expect(refused.body).toContain(`value="${ticket}"`);
      await expectUntouched(target);
    }
    // A bidirectional control or a zero-width character: the page says which rule, not the length.
    for (const ticket of ["INC-77\u202e", "INC\u200b77"]) {
      const refused = await client.post(`/support/users/${target.id}/factors/confirm`, { ticket });
      expect(refused.statusCode, JSON.stringify(ticket)).toBe(400);
      expect(refused.body).toContain('<p class="field-problem" id="ticket-problem">The ticket reference must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors).</p>');
      await expectUntouched(target);
    }
    expect((await targetSession.get("/profile")).statusCode).toBe(200);

    const done = await client.post(`/support/users/${target.id}/factors/confirm`, { ticket: ` ${"T".repeat(64)} ` });
    expect(done.statusCode).toBe(303);
    const [event] = await queryAudit(f.t.deps.db, { subject: target.login_id, event: "factors.removed" });
    expect(event!.detail).toMatchObject({ app: true, ticket: "T".repeat(64) });
  });

  it("refuses support acting on their own factors or an administrator's, with the reason; an admin may act on another admin", async () => {
    const { user: agent, client } = await withApp("support", "10.31.0.1");
    const { user: admin, client: adminClient } = await withApp("admin", "10.31.0.2");
    const { user: otherAdmin } = await withApp("admin", "10.31.0.3");

    const own = await client.post(`/support/users/${agent.id}/factors/confirm`, {});
    expect(own.statusCode).toBe(403);
    expect(own.body).toContain("You cannot remove your own second factors");
    const ofAdmin = await client.post(`/support/users/${admin.id}/factors`, {});
    expect(ofAdmin.statusCode).toBe(403);
    expect(ofAdmin.body).toContain("Only an administrator can remove an administrator");
    expect((await client.get(`/support/users/${admin.id}`)).body).toContain("Only an administrator can remove an administrator");
    expect((await factorsOf(f.t.deps.db, admin.id)).app).not.toBeNull();
    expect((await factorsOf(f.t.deps.db, agent.id)).app).not.toBeNull();

    const adminOwn = await adminClient.post(`/support/users/${admin.id}/factors/confirm`, {});
    expect(adminOwn.statusCode).toBe(403);
    expect((await adminClient.post(`/support/users/${otherAdmin.id}/factors/confirm`, {})).statusCode).toBe(303);
    expect((await factorsOf(f.t.deps.db, otherAdmin.id)).app).toBeNull();
  });

  it("refuses support removing another support account's second factors at every step (403, nothing removed, no event, no mail, sessions live); an administrator may", async () => {
    const REFUSED = "Only an administrator can remove a support account&#39;s second factors."; // as the page escapes it
    const { user: peer, client: peerSession } = await withApp("support", "10.35.0.1");
    const { client } = await withApp("support", "10.35.0.2");
    const { client: adminClient } = await withApp("admin", "10.35.0.3");

    // The user's page says why where the button would be.
    const page = await client.get(`/support/users/${peer.id}`);
    expect(page.body).toContain(REFUSED);
    expect(page.body).not.toContain(`action="/support/users/${peer.id}/factors"`);
    for (const answer of [
      await client.post(`/support/users/${peer.id}/factors`, {}),
      await client.post(`/support/users/${peer.id}/factors/confirm`, {}),
      await client.post(`/support/users/${peer.id}/factors/confirm`, { ticket: "INC-PEER" }),
      await client.post(`/support/users/${peer.id}/factors/confirm`, { ticket: "T".repeat(65) }),
    ]) {
      expect(answer.statusCode).toBe(403);
      expect(answer.body).toContain(REFUSED);
      expect(answer.body).not.toContain("Confirm removal");
    }
    await expectUntouched(peer);
    expect((await peerSession.get("/profile")).statusCode).toBe(200);

    expect((await adminClient.get(`/support/users/${peer.id}`)).body).toContain(`action="/support/users/${peer.id}/factors"`);
    expect((await adminClient.post(`/support/users/${peer.id}/factors`, {})).statusCode).toBe(200);
    expect((await adminClient.post(`/support/users/${peer.id}/factors/confirm`, { ticket: "INC-PEER" })).statusCode).toBe(303);
    expect(await factorsOf(f.t.deps.db, peer.id)).toMatchObject({ app: null, recoveryCodesLeft: 0 });
    expect((await peerSession.get("/profile")).statusCode).toBe(303);
  });

  it("famos user factors LOGIN lists them; --remove removes them, audited as the operator", async () => {
    const { user } = await withApp("admin", "10.32.0.1");
    // `--remove` as a real famos process (its exit code as the shell sees it); the listings and the
    // unknown login ID through the same main() in this process (cli.inProcess), three process starts fewer.
    const list = await f.cli.inProcess(["user", "factors", user.login_id]);
    expect(list.stderr).toBe("");
    expect(list.stdout).toContain("authenticator app (set up");
    expect(list.stdout).toContain("10 recovery codes left");
    const json = JSON.parse((await f.cli.inProcess(["user", "factors", user.login_id, "--json"])).stdout);
    expect(json).toMatchObject({ loginId: user.login_id, passkeys: 0, recoveryCodesLeft: 10 });
    const removed = await f.cli.run(["user", "factors", user.login_id, "--remove", "--ticket", "INC-9"]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("were removed");
    expect(await factorsOf(f.t.deps.db, user.id)).toMatchObject({ app: null, recoveryCodesLeft: 0 });
    const [event] = await queryAudit(f.t.deps.db, { subject: user.login_id, event: "factors.removed" });
    expect(event!.actor).toBe(`operator:${userInfo().username}`);
    const [ticketless] = await queryAudit(f.t.deps.db, { subject: user.login_id, event: "factors.removed" });
    expect(ticketless!.detail).toMatchObject({ ticket: "INC-9" });
    const unknown = await f.cli.inProcess(["user", "factors", "nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user has login ID "nobody"');
  });

  it("famos user factors --remove refuses a ticket the rule refuses: exit 1 with the reason, nothing removed, audited or mailed; a blank ticket is no ticket", async () => {
    const { user } = await withApp("user", "10.34.0.1");
    // The first refusal as a real famos process, the second and the blank ticket through main() in this process.
    for (const [i, ticket] of BAD_TICKETS.entries()) {
      const args = ["user", "factors", user.login_id, "--remove", "--ticket", ticket];
      const refused = i === 0 ? await f.cli.run(args) : await f.cli.inProcess(args);
      expect(refused.code, JSON.stringify(ticket)).toBe(1);
      expect(refused.stderr).toBe(`famos: ${TICKET_PROBLEM}\n`);
      expect(refused.stdout).toBe("");
      await expectUntouched(user);
    }
    const blank = await f.cli.inProcess(["user", "factors", user.login_id, "--remove", "--ticket", "  "]);
    expect(blank.code, blank.stderr).toBe(0);
    const [event] = await queryAudit(f.t.deps.db, { subject: user.login_id, event: "factors.removed" });
    expect(event!.detail).not.toHaveProperty("ticket");
  });
});
