import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryAudit } from "../../src/audit/audit.ts";
import { addressLockInfo, accountLockInfo } from "../../src/regulation/locks.ts";
import { resetOtpEmail } from "../../src/support/reset-email.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully, submitPassword } from "../support/client.ts";

/** SPEC "Locks": support sees and lifts locks of login IDs, devices and addresses, audited. */
/**
 * The address lock at 20 failures (FAMOS_ADDRESS_LOCK_AFTER, 1 to 1,000,000; 50 by default): what the
 * console shows and lifts is the same at any threshold, and each failure is a password check at
 * production cost (an unknown login ID's too). Above the 15 failures the other tests make from one address.
 */
const ADDRESS_LOCK_AFTER = 20;

describe.each(["sqlite", "postgres"] as const)("support console: locks of login IDs, devices and addresses (%s)", (database) => {
  let t: TestApp;
  let support: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database, env: { FAMOS_ADDRESS_LOCK_AFTER: String(ADDRESS_LOCK_AFTER) } });
    support = new FormClient(t.app, "10.9.9.9");
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", loginId: "sup.locks" }));
  });
  afterAll(async () => t.close());

  it("a user's page shows the login ID's lock and its browsers' locks, and Unlock lifts both", async () => {
    const user = await addUser(t.deps, { loginId: "locked.both" });
    const home = new FormClient(t.app, "198.51.100.40");
    await signInFully(home, t.smtp, user);
    for (let i = 0; i < 10; i += 1) await submitPassword(home, user.login_id, `typo ${i}`);
    for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app, "203.0.113.40"), user.login_id, `guess ${i}`);

    const page = await support.get(`/support/users/${user.id}`);
    expect(page.body).toContain("Locked until 28/11/2026 14:01 UK time on new browsers");
    expect(page.body).toContain("Browser 1: 10 failures, paused until 28/11/2026 14:01 (UK time)");
    const unlocked = await support.post(`/support/users/${user.id}/unlock`);
    expect(unlocked.statusCode).toBe(303);
    expect(await accountLockInfo(t.deps, user.login_key, t.clock.now())).toMatchObject({ locked: false, devices: [] });
    expect((await submitPassword(home, user.login_id, user.password)).headers.location).toBe("/otp");
    const [event] = await queryAudit(t.deps.db, { subject: user.login_id, event: "unlock" });
    expect(event!.detail).toMatchObject({ wasLocked: true, devicesLocked: 1, passwordFailures: 5 });
  });

  it("a lock ending mid-minute is shown by the minute it is over by, rounded up, as users are told (pauseOverBy)", async () => {
    t.clock.advance(30_000);
    try {
      const user = await addUser(t.deps, { loginId: "locked.midminute" });
      const home = new FormClient(t.app, "198.51.100.42");
      await signInFully(home, t.smtp, user);
      for (let i = 0; i < 10; i += 1) await submitPassword(home, user.login_id, `typo ${i}`);
      for (let i = 0; i < 5; i += 1) await submitPassword(new FormClient(t.app, "203.0.113.42"), user.login_id, `guess ${i}`);
      // Both end a minute after the failure that set them, at 14:01:30: "until 14:01" would send
      // the user back 30 seconds too soon, to be refused again.
      const page = (await support.get(`/support/users/${user.id}`)).body;
      expect(page).toContain("Locked until 28/11/2026 14:02 UK time on new browsers");
      expect(page).toContain("Browser 1: 10 failures, paused until 28/11/2026 14:02 (UK time)");
      await support.post(`/support/users/${user.id}/unlock`);
    } finally {
      t.clock.advance(-30_000);
    }
  });

  it("lists active address locks with Unlock address, which lifts the lock and is audited", async () => {
    const ip = "203.0.113.41";
    for (let i = 0; i < ADDRESS_LOCK_AFTER; i += 1) await submitPassword(new FormClient(t.app, ip), `spray.${i}`, "Winter2026!");
    const page = await support.get("/support/addresses");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("<h1>Address locks</h1>");
    expect(page.body).toMatch(new RegExp(`<td>${ip.replaceAll(".", "\\.")}</td><td>${ADDRESS_LOCK_AFTER}</td>`));
    expect(page.body).toContain("Unlock address");

    const bad = await support.post("/support/addresses/unlock", { address: "not an address" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("is not an IP address");

    await support.get("/support/addresses");
    const lifted = await support.post("/support/addresses/unlock", { address: ip });
    expect(lifted.headers.location).toBe("/support/addresses?done=unlocked");
    expect(await addressLockInfo(t.deps.db, ip, t.clock.now())).toBeNull();
    expect((await support.get("/support/addresses")).body).toContain("No address is locked.");
    const [event] = await queryAudit(t.deps.db, { event: "address.unlocked" });
    expect(event).toMatchObject({ actor: "sup.locks", subject: null });
    expect(event!.detail).toMatchObject({ address: ip, wasLocked: true, failures: ADDRESS_LOCK_AFTER });
  });

  it("a reset of the OTP email revokes the login ID's device cookies: its browsers count as new again", async () => {
    const user = await addUser(t.deps, { loginId: "reset.devices", fullName: "Reset Devices", partnerNumber: "4242" });
    const home = new FormClient(t.app, "198.51.100.42");
    await signInFully(home, t.smtp, user);
    const by = { user: null, audit: { actor: "operator:test", ip: "cli", userAgent: "test" } };
    const reset = await resetOtpEmail(t.deps, by, user.id, { name: "Reset Devices", loginId: "reset.devices", partnerNumber: "4242", ticket: "INC-1" });
    expect(reset.kind).toBe("reset");
    for (let i = 0; i < 5; i += 1) await submitPassword(home, user.login_id, `typo ${i}`);
    // Counted against the login ID, as for any new browser, not against the revoked device.
    expect(await accountLockInfo(t.deps, user.login_key, t.clock.now())).toMatchObject({ passwordFailures: 5, devices: [] });
  });

  it("refuses the address page to staff without a support role", async () => {
    const staff = new FormClient(t.app, "10.9.9.10");
    await signInFully(staff, t.smtp, await addUser(t.deps));
    expect((await staff.get("/support/addresses")).statusCode).toBe(403);
  });
});
