import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { codeMailFor as codeMail } from "../support/code-mail.ts";
import { dsnFor, sendFromNullSender } from "../support/dsn.ts";

/**
 * The audit trail's CSV export (/support/audit.csv) as support downloads it shows what support's pages show
 * (detailText's rule): the address mailed (`to`) and the mailbox forwarded to masked, a forward's display name
 * (a third person's name) dropped, every address inside a relay's words masked. An administrator's export,
 * like `famos audit` for the operator, keeps the record whole (SECURITY.md, README "Audit trail"). Real
 * smtp-server, DSNs and the console's routes.
 */
describe("the audit CSV export's addresses by role (sqlite)", () => {
  let t: TestApp;
  let listener: BounceListener;
  let support: FormClient;
  let admin: FormClient;
  let adminId: string;
  const mailed = "sales.csv@dealer.example";
  const forwarded = "jane.private@gmail.example";
  const contact = "mark.other@dealer.example";
  beforeAll(async () => {
    t = await createTestApp({ database: "sqlite", env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test" } });
    listener = await startBounceListener(t.deps, { host: "127.0.0.1", port: 0 });
    support = new FormClient(t.app, "10.39.4.1");
    await signInFully(support, t.smtp, await addUser(t.deps, { role: "support", email: "support.csv@famos.test" }));
    admin = new FormClient(t.app, "10.39.4.2");
    const adminUser = await addUser(t.deps, { role: "admin", email: "admin.csv@famos.test" });
    adminId = adminUser.id;
    await signInFully(admin, t.smtp, adminUser);
    const { mail } = await codeMail(t, mailed, "10.39.4.3");
    await sendFromNullSender(
      listener.port,
      mail.envelopeFrom,
      dsnFor(mail, { action: "failed", status: "5.1.1", diagnostic: `550 5.1.1 <${forwarded}>: user unknown; write to ${contact}`, finalRecipient: `Jane Private <${forwarded}>` }),
    );
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  const exported = async (client: FormClient) => {
    const csv = await client.get("/support/audit.csv?event=mail.forward-bounced");
    expect(csv.statusCode).toBe(200);
    const rows = csv.body.split("\r\n").filter((line) => line.includes("mail.forward-bounced"));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  };

  it("support's export masks every address in a forward's report and drops the display name, as support's pages do", async () => {
    const row = await exported(support);
    for (const whole of [mailed, forwarded, contact, "jane.private", "Jane Private"]) expect(row).not.toContain(whole);
    expect(row).toContain('""to"":""s•••@dealer.example""');
    expect(row).toContain('""forwardedTo"":""j•••@gmail.example""');
    expect(row).toContain("m•••@dealer.example");
    // The page says the same.
    const page = (await support.get("/support/audit?event=mail.forward-bounced")).body;
    for (const whole of [mailed, forwarded, contact, "Jane Private"]) expect(page).not.toContain(whole);
  });

  it("an administrator's export keeps the record whole", async () => {
    const row = await exported(admin);
    for (const whole of [mailed, contact, `Jane Private <${forwarded}>`]) expect(row).toContain(whole);
  });

  it("the reader's role is read at each download: an administrator demoted meanwhile gets support's masked export in the same session, and whole again once promoted back", async () => {
    const setRole = (role: "support" | "admin") => t.deps.db.updateTable("users").set({ role }).where("id", "=", adminId).execute();
    try {
      await setRole("support");
      const masked = await exported(admin);
      for (const whole of [mailed, forwarded, contact, "Jane Private"]) expect(masked).not.toContain(whole);
      expect(masked).toContain('""to"":""s•••@dealer.example""');
      await setRole("admin");
      expect(await exported(admin)).toContain(`Jane Private <${forwarded}>`);
    } finally {
      await setRole("admin");
    }
  });
});
