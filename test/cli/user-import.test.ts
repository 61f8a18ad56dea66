import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../src/password/hash.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { createTestApp } from "../support/app.ts";
import { FormClient, nextCode, submitPassword } from "../support/client.ts";
import { bcryptHash, csvField, goodRows, HEADER, type GeneratedUser } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/** Bad rows by their index among the 1,000 data rows (file line = index + 2). */
function badRows(hash: string): Map<number, { row: string; reason: RegExp }> {
  return new Map([
    [98, { row: "badhash,Bad Hash,1,,,$2b$04$tooshort", reason: /^password_hash: this bcrypt hash has 8 characters after the cost, 53 expected \(22 of salt, 31 of hash\)$/ }],
    [99, { row: "shortdigest,Short Digest,1,,,pbkdf2_sha256$1000000$salt$c2hvcnQ=", reason: /^password_hash: this pbkdf2_sha256 hash's digest is 5 bytes, FAMOS takes 16 to 64 \(Django writes 32\)$/ }],
    [150, { row: "md5user,Md5 User,1,,,md5$abc$0123456789abcdef", reason: /^password_hash is not/ }],
    [200, { row: `bademail,Bad Email,1,,jane@@dealer.example,${hash}`, reason: /^email: Enter a valid email address/ }],
    [301, { row: `dup.user,Dup One,1,,,${hash}`, reason: /^login ID "dup\.user" appears on lines 303, 304 \(case ignored\)/ }],
    [302, { row: `DUP.USER,Dup Two,2,,,${hash}`, reason: /^login ID "DUP\.USER" appears on lines 303, 304/ }],
    [403, { row: `noname,,1,,,${hash}`, reason: /^the full name must be 1 to 200 printable characters$/ }],
    [504, { row: `fivefields,Five Fields,1,,${hash}`, reason: /^5 fields where the header has 6$/ }],
    [605, { row: `badrole,Bad Role,1,superuser,,${hash}`, reason: /^role "superuser" is not one of user, support, admin$/ }],
  ]);
}

// A real `famos` process for each exit code as the shell sees it (1: the first run's refused rows, 0:
// --update, 2: no file named); the other runs are the same command through main() in this process
// (cli.inProcess), checked as before.
describe("famos user import, run as a real command", () => {
  let cli: CliWorkspace;
  let users: Array<GeneratedUser & { line: number }>;
  let bad: ReturnType<typeof badRows>;
  let file: string;

  beforeAll(async () => {
    cli = cliWorkspace();
    bad = badRows(bcryptHash("some password here"));
    const good = await goodRows(1000 - bad.size);
    const rows: string[] = [];
    users = [];
    for (let index = 0; index < 1000; index += 1) {
      const refused = bad.get(index);
      if (refused) {
        rows.push(refused.row);
        continue;
      }
      const user = good[users.length]!;
      users.push({ ...user, line: index + 2 });
      rows.push(user.row);
    }
    // A spreadsheet's "CSV UTF-8": byte order mark, CRLF line ends.
    file = join(cli.dir, "users.csv");
    writeFileSync(file, `\uFEFF${HEADER}\r\n${rows.join("\r\n")}\r\n`);
  });
  afterAll(() => cli.remove());

  async function withStore<T>(use: (store: Store) => Promise<T>): Promise<T> {
    const store = openStore(cli.databaseUrl);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }
  const byLogin = (loginId: string) => users.find((u) => u.loginId === loginId)!;

  it("takes the good rows of 1,000 and names each refused row by line, then exits 1", async () => {
    const result = await cli.run(["user", "import", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${users.length} rows taken (${users.length} added).\n`);
    // The workspace's first command: it makes the database, and says so last (test/cli/new-database.test.ts).
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines.pop()).toMatch(/^famos: there was no database at \S+: this command made a new one$/);
    expect(lines[0]).toBe(`${bad.size} rows refused:`);
    const reported = lines.slice(1).map((l) => /^ {2}line (\d+): (.*)$/.exec(l));
    expect(reported.map((m) => Number(m?.[1]))).toEqual([...bad.keys()].map((index) => index + 2));
    for (const [i, index] of [...bad.keys()].entries()) expect(reported[i]![2]).toMatch(bad.get(index)!.reason);
  });

  it("stores each hash as it was given, roles and confirmed emails as the file says", async () => {
    await withStore(async ({ db }) => {
      const stored = await db.selectFrom("users").selectAll().execute();
      expect(stored).toHaveLength(users.length);
      const formats = { argon2id: 0, bcrypt: 0, pbkdf2_sha256: 0 };
      for (const row of stored) {
        const user = byLogin(row.login_id);
        formats[user.format] += 1;
        expect(row.password_hash).toBe(user.hash);
        expect(row.full_name).toBe(user.fullName);
        expect(row.partner_number).toBe(user.partnerNumber);
        expect(row.role).toBe(user.role === "" ? "user" : user.role.toLowerCase());
        expect(row.otp_email).toBe(user.email === "" ? null : user.email);
        expect(row.otp_email_confirmed_at === null).toBe(user.email === "");
      }
      expect(formats.argon2id).toBeGreaterThan(300);
      expect(formats.bcrypt).toBeGreaterThan(300);
      expect(formats.pbkdf2_sha256).toBeGreaterThan(300);
      expect(stored.find((r) => r.login_id === "user0007")?.full_name).toBe('O\'Brien, "Pat"');
      expect(stored.find((r) => r.login_id === "user0007")?.password_hash).toMatch(/^\$2y\$04\$/);
      const audit = await db.selectFrom("audit").selectAll().where("event", "=", "user.created").execute();
      expect(audit).toHaveLength(users.length);
      expect(audit[0]?.actor).toMatch(/^operator:/);
      expect(JSON.parse(audit[0]!.detail)).toMatchObject({ source: "import", line: 2 });
    });
  });

  it("signs in imported users of every format over HTTP and upgrades bcrypt and PBKDF2 to argon2id", async () => {
    const t = await createTestApp({ env: { FAMOS_DATABASE_URL: cli.databaseUrl } });
    try {
      // user0004: bcrypt with a confirmed email, straight to OTP capture and on to the portal.
      const bcryptUser = byLogin("user0004");
      expect(bcryptUser.format).toBe("bcrypt");
      const client = new FormClient(t.app);
      const password = await submitPassword(client, bcryptUser.loginId, bcryptUser.password);
      expect(password.headers.location).toBe("/otp");
      const code = await nextCode(t.smtp, bcryptUser.email);
      await client.get("/otp");
      expect((await client.post("/otp", { code })).statusCode).toBe(303);
      expect((await client.get("/")).body).toContain("Sign out");

      // user0001 ($2a$), user0007 ($2y$), user0002 (PBKDF2) and user0003 (argon2id) pass the password step.
      for (const loginId of ["user0001", "user0007", "user0002", "user0003"]) {
        const user = byLogin(loginId);
        const step = await submitPassword(new FormClient(t.app), loginId, user.password);
        expect(step.statusCode, loginId).toBe(303);
        expect(step.headers.location).toBe(user.email ? "/otp" : "/enrol");
      }
      const after = await t.deps.db.selectFrom("users").select(["login_id", "password_hash"]).where("login_id", "in", ["user0004", "user0001", "user0007", "user0002", "user0003"]).execute();
      for (const row of after) {
        const user = byLogin(row.login_id);
        if (user.format === "argon2id") expect(row.password_hash).toBe(user.hash);
        else expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect(await verifyPassword(row.password_hash, user.password)).toEqual({ ok: true, needsUpgrade: false });
      }
    } finally {
      await t.close();
    }
  });

  it("refuses every existing login ID on a second run without --update", async () => {
    const result = await cli.inProcess(["user", "import", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("0 rows taken (0 added).\n");
    expect(result.stderr.match(/already exists \(use --update to change existing users\)/g)).toHaveLength(users.length);
    await withStore(async ({ db }) => expect(await db.selectFrom("users").select("id").execute()).toHaveLength(users.length));
  });

  it("updates existing users with --update, ends sessions on a new hash, keeps an email left empty", async () => {
    const u = (loginId: string) => byLogin(loginId);
    const newHash = bcryptHash("a brand new password");
    // Columns in another order: the header says which is which.
    const row = (user: GeneratedUser, change: Partial<GeneratedUser>) => {
      const v = { ...user, ...change };
      return [v.hash, v.email, v.role, v.partnerNumber, v.fullName, v.loginId].map(csvField).join(",");
    };
    const text = [
      "password_hash,email,role,partner_number,full_name,login_id",
      row(u("user0011"), { fullName: "Renamed, Eleven" }),
      row(u("user0013"), { role: "admin" }),
      row(u("user0006"), { email: "" }), // has an email: an empty cell keeps it
      row(u("user0005"), { email: "five@dealer.example" }),
      row(u("user0004"), { hash: newHash }),
      row({ ...u("user0005"), loginId: "brand.new" }, { email: "" }),
    ].join("\n");
    const update = join(cli.dir, "update.csv");
    writeFileSync(update, text);

    const result = await cli.run(["user", "import", update, "--update"]);
    // The new hash's owner is told, as of every new password (import-update-password-notice.test.ts): here the development mailbox's line.
    expect(result.stderr).toBe('[dev mail] to user0004@dealer.example: "Your retail IT team set a new FAMOS password for you" (read it at http://localhost:3000/dev/mailbox)\n');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("6 rows taken (1 added, 4 updated, 1 unchanged).\n");

    await withStore(async ({ db }) => {
      const get = (loginId: string) => db.selectFrom("users").selectAll().where("login_id", "=", loginId).executeTakeFirstOrThrow();
      expect((await get("user0011")).full_name).toBe("Renamed, Eleven");
      expect((await get("user0013")).role).toBe("admin");
      expect((await get("user0006")).otp_email).toBe("user0006@dealer.example");
      expect((await get("user0005")).otp_email).toBe("five@dealer.example");
      const four = await get("user0004");
      expect(four.password_hash).toBe(newHash);
      const live = await db.selectFrom("sessions").select(["end_reason"]).where("user_id", "=", four.id).execute();
      expect(live.length).toBeGreaterThan(0);
      expect(live.every((s) => s.end_reason !== null)).toBe(true);
      expect(live.some((s) => s.end_reason === "import")).toBe(true);
      expect((await get("brand.new")).otp_email).toBeNull();

      const events = await db.selectFrom("audit").select(["event", "subject", "detail"]).where("event", "in", ["user.updated", "role.changed"]).execute();
      expect(events.map((e) => `${e.event} ${e.subject}`).sort()).toEqual(
        ["role.changed user0013", "user.updated user0004", "user.updated user0005", "user.updated user0011", "user.updated user0013"],
      );
      const renamed = events.find((e) => e.subject === "user0011")!;
      expect(JSON.parse(renamed.detail)).toMatchObject({ source: "import", changed: "full_name", line: 2 });
    });
  });

  it("refuses a file whose header is not the six columns, storing nothing", async () => {
    const wrongHeader = join(cli.dir, "wrong-header.csv");
    writeFileSync(wrongHeader, "login,full_name,partner_number,role,email,password_hash,extra\nx,X,1,,,\n");
    const header = await cli.inProcess(["user", "import", wrongHeader]);
    expect(header.code).toBe(1);
    expect(header.stderr).toContain('line 1 (the header): unknown columns "login", "extra"; missing login_id');
    await withStore(async ({ db }) => expect(await db.selectFrom("users").select("id").where("login_key", "=", "x").execute()).toHaveLength(0));
  });

  it("refuses a missing file and a file that is not UTF-8 (exit 1), and a missing argument (exit 2)", async () => {
    const missing = await cli.inProcess(["user", "import", join(cli.dir, "nowhere.csv")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read");

    const latin1 = join(cli.dir, "latin1.csv");
    writeFileSync(latin1, Buffer.concat([Buffer.from(`${HEADER}\nzoe,Zo`), Buffer.from([0xeb]), Buffer.from(`,1,,,${bcryptHash("x")}\n`)]));
    const encoding = await cli.inProcess(["user", "import", latin1]);
    expect(encoding.code).toBe(1);
    expect(encoding.stderr).toContain("is not UTF-8");

    const usage = await cli.run(["user", "import"]);
    expect(usage.code).toBe(2);

    await withStore(async ({ db }) => {
      expect(await db.selectFrom("users").select("id").where("login_key", "in", ["x", "zoe"]).execute()).toHaveLength(0);
    });
  });
});
