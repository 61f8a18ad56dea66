import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../src/password/hash.ts";
import { openStore } from "../../src/store/database.ts";
import { createTestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

const PASSWORD = "a long and unusual passphrase 7";

describe("famos user add and user show, run as a real command", () => {
  let cli: CliWorkspace;
  beforeAll(() => {
    cli = cliWorkspace();
  });
  afterAll(() => cli.remove());

  async function storedUser(loginId: string) {
    const store = openStore(cli.databaseUrl);
    try {
      return await store.db.selectFrom("users").selectAll().where("login_key", "=", loginId.toLowerCase()).executeTakeFirst();
    } finally {
      await store.close();
    }
  }

  it("adds a user with the password read from standard input, hashed with argon2id", async () => {
    const result = await cli.run(["user", "add", "Jane.Smith", "--name", "Jane Smith", "--partner", "01234", "--email", "Jane.Smith@Dealer.example"], { stdin: `${PASSWORD}\n` });
    // The workspace's first command: it makes the database (test/cli/new-database.test.ts).
    expect(result.stderr).toMatch(/^famos: there was no database at \S+: this command made a new one\n$/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Added Jane.Smith (user), OTP email Jane.Smith@Dealer.example");

    const user = await storedUser("jane.smith");
    expect(user?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(user!.password_hash, PASSWORD)).toEqual({ ok: true, needsUpgrade: false });
    expect((await verifyPassword(user!.password_hash, `${PASSWORD}x`)).ok).toBe(false);
    expect(user?.otp_email).toBe("Jane.Smith@Dealer.example");
    expect(user?.otp_email_confirmed_at).not.toBeNull();
  });

  it("makes the first sign-in of a user added with --email go straight to OTP capture", async () => {
    const t = await createTestApp({ env: { FAMOS_DATABASE_URL: cli.databaseUrl } });
    try {
      const client = new FormClient(t.app);
      const password = await submitPassword(client, "jane.smith", PASSWORD);
      expect(password.statusCode).toBe(303);
      expect(password.headers.location).toBe("/otp");
      const code = await nextCode(t.smtp, "Jane.Smith@dealer.example");
      await client.get("/otp");
      const confirmed = await client.post("/otp", { code });
      expect(confirmed.statusCode).toBe(303);
      expect((await client.get("/")).body).toContain("Sign out");
    } finally {
      await t.close();
    }
  });

  it("refuses a short password with exit 1 and the reason", async () => {
    const result = await cli.run(["user", "add", "short", "--name", "Short Pass", "--partner", "1"], { stdin: "too short\n" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("at least 12 characters");
    expect(await storedUser("short")).toBeUndefined();
  });

  it("refuses a password with a NUL character (no form could send it at sign-in) with exit 1 and the reason", async () => {
    const result = await cli.run(["user", "add", "nul", "--name", "Nul Pass", "--partner", "1"], { stdin: "walnut ferry\u0000lantern\n" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot contain a NUL character");
    expect(await storedUser("nul")).toBeUndefined();
  });

  it("refuses a password that is not UTF-8 (a Latin-1 file, stray bytes) with exit 1 and the reason, storing nothing", async () => {
    // "Grüße" as Latin-1: ü and ß are single bytes no UTF-8 text has there; decoded leniently they
    // became U+FFFD, a password nobody could type at sign-in.
    const inputs = [Buffer.from("Grüße aus Köln, lantern 7\n", "latin1"), Buffer.concat([Buffer.from("walnut ferry "), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(" lantern\n")])];
    for (const [i, stdin] of inputs.entries()) {
      const result = await cli.run(["user", "add", `latin${i}`, "--name", "Latin Pass", "--partner", "1"], { stdin });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toBe("famos: the password on standard input is not UTF-8 text; give it as UTF-8\n");
      expect(await storedUser(`latin${i}`)).toBeUndefined();
    }
    // The same password as UTF-8 is taken, its characters as typed.
    const utf8 = await cli.run(["user", "add", "utf8", "--name", "Utf Pass", "--partner", "1"], { stdin: Buffer.from("Grüße aus Köln, lantern 7\n", "utf8") });
    expect(utf8.code, utf8.stderr).toBe(0);
    expect(await verifyPassword((await storedUser("utf8"))!.password_hash, "Grüße aus Köln, lantern 7")).toEqual({ ok: true, needsUpgrade: false });
  });

  it("on a terminal, asks twice without echo and refuses typed bytes that are not UTF-8 (a Latin-1 terminal)", async () => {
    const utf8 = Buffer.from("Grüße aus Köln, lantern 7\r", "utf8");
    const added = await cli.runOnTerminal(["user", "add", "terminal", "--name", "Terminal Pass", "--partner", "1"], [utf8, utf8]);
    expect(added.code, added.stdout).toBe(0);
    expect(added.stdout).toBe("Password: \nAgain: \nAdded terminal (user); the OTP email is entered at first sign-in.\n");
    expect(await verifyPassword((await storedUser("terminal"))!.password_hash, "Grüße aus Köln, lantern 7")).toEqual({ ok: true, needsUpgrade: false });

    const latin1 = await cli.runOnTerminal(["user", "add", "latin.terminal", "--name", "Latin Pass", "--partner", "1"], [Buffer.from("Grüße aus Köln, lantern 7\r", "latin1")]);
    expect(latin1.code, latin1.stdout).toBe(1);
    expect(latin1.stdout).toBe("Password: \nfamos: the password on standard input is not UTF-8 text; give it as UTF-8\n");
    expect(await storedUser("latin.terminal")).toBeUndefined();
  });

  it("refuses a common password with exit 1 and the reason", async () => {
    const result = await cli.run(["user", "add", "common", "--name", "Common Pass", "--partner", "1"], { stdin: "password1234\n" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("most commonly used passwords");
    expect(await storedUser("common")).toBeUndefined();
  });

  it("refuses a login ID that exists in another case with exit 1", async () => {
    const result = await cli.run(["user", "add", "JANE.SMITH", "--name", "Another Jane", "--partner", "2"], { stdin: `${PASSWORD}\n` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('a user with login ID "JANE.SMITH" already exists');
  });

  it("answers a missing --name with exit 2 (usage error) and stores nothing", async () => {
    const result = await cli.run(["user", "add", "noname", "--partner", "1"], { stdin: `${PASSWORD}\n` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--name");
    expect(await storedUser("noname")).toBeUndefined();
  });

  it("refuses bad fields and a bad --email with exit 1", async () => {
    const partner = await cli.run(["user", "add", "badpartner", "--name", "Bad Partner", "--partner", "12 34"], { stdin: `${PASSWORD}\n` });
    expect(partner.code).toBe(1);
    expect(partner.stderr).toContain("partner number");
    const email = await cli.run(["user", "add", "bademail", "--name", "Bad Email", "--partner", "1", "--email", "not-an-address"], { stdin: `${PASSWORD}\n` });
    expect(email.code).toBe(1);
    expect(email.stderr).toContain("--email");
  });

  it("refuses a full name with an invisible character (a tag, U+E0041) with exit 1, saying what is refused in plain words", async () => {
    const result = await cli.run(["user", "add", "tagged", "--name", "Jane\u{E0041} Smith", "--partner", "1"], { stdin: `${PASSWORD}\n` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("famos: the full name must not contain invisible characters (such as zero-width spaces, direction marks or emoji style selectors)\n");
    expect(await storedUser("tagged")).toBeUndefined();
  });

  it("shows a user, as text and as JSON, and refuses an unknown login ID", async () => {
    const text = await cli.run(["user", "show", "JANE.smith"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Login ID\s+Jane\.Smith/);
    expect(text.stdout).toMatch(/Partner number\s+01234/);
    expect(text.stdout).toMatch(/OTP email\s+Jane\.Smith@Dealer\.example/);
    expect(text.stdout).toMatch(/Enrolment\s+confirmed/);

    // The text as a real famos process; the JSON and the unknown login ID through the same main() in
    // this process (cli.inProcess), a process start fewer each.
    const json = await cli.inProcess(["user", "show", "jane.smith", "--json"]);
    expect(json.code).toBe(0);
    const facts = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(facts).toMatchObject({ loginId: "Jane.Smith", name: "Jane Smith", partnerNumber: "01234", role: "user", enrolment: "confirmed", locked: false });
    // The earlier sign-in in this file confirmed a code: it is recorded.
    expect(facts.lastSignIn).not.toBeNull();

    const unknown = await cli.inProcess(["user", "show", "nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user has login ID "nobody"');
  });

  it("shows the locks of the user's browsers and what bounces said about the OTP email", async () => {
    const store = openStore(cli.databaseUrl);
    const now = Date.now();
    try {
      await store.db.insertInto("devices").values({ id: "dev1234567890", login_key: "jane.smith", created_at: now, last_used_at: now, revoked_at: null }).execute();
      await store.db
        .insertInto("throttles")
        .values({ key: "password:dev:dev1234567890", failures: 10, locked_until: now + 3_600_000, hard_locked: 0, updated_at: now, window_started_at: 0 })
        .execute();
      await store.db
        .insertInto("mail_addresses")
        .values({ address_key: "jane.smith@dealer.example", undeliverable_at: now, undeliverable_reason: "550 5.1.1 user unknown", soft_bounces: 2, last_soft_bounce_at: now, last_soft_reason: "451 try later", confirmed_at: null, updated_at: now })
        .execute();
    } finally {
      await store.close();
    }
    // Through main() in this process: the previous test runs `user show` as a real process.
    const text = await cli.inProcess(["user", "show", "jane.smith"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Device lock\s+browser dev12345: 10 failed tries, locked until /);
    expect(text.stdout).toMatch(/Mail\s+undeliverable since .*: 550 5\.1\.1 user unknown/);
    expect(text.stdout).toMatch(/Mail delays\s+2, the last at /);
    const facts = JSON.parse((await cli.inProcess(["user", "show", "jane.smith", "--json"])).stdout) as Record<string, unknown>;
    expect(facts.devices).toEqual([{ device: "dev1234567890", failures: 10, lockedUntil: new Date(now + 3_600_000).toISOString(), permanentLock: false }]);
    expect(facts.mail).toMatchObject({ undeliverableReason: "550 5.1.1 user unknown", delays: 2 });
  });
});
