import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { hashSync as bcryptHashSync } from "@node-rs/bcrypt";
import { describe, expect, it } from "vitest";
import { LegacyPool } from "../../src/password/legacy-pool.ts";
import {
  burnPasswordCheck,
  checkImportedHash,
  describeHashFormat,
  hashPassword,
  verifyPassword,
} from "../../src/password/hash.ts";

const PASSWORD = "correct horse battery staple";

function djangoPbkdf2(password: string, salt: string, iterations: number): string {
  const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64");
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
}

describe("argon2id", () => {
  it("hashes to a PHC string with the OWASP parameters", async () => {
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(describeHashFormat(stored)).toBe("argon2id");
  });

  it("verifies the right password without asking for an upgrade", async () => {
    const stored = await hashPassword(PASSWORD);
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: true, needsUpgrade: false });
    expect(await verifyPassword(stored, "correct horse battery stapler")).toEqual({
      ok: false,
      needsUpgrade: false,
    });
  });

  it("salts each hash", async () => {
    expect(await hashPassword(PASSWORD)).not.toBe(await hashPassword(PASSWORD));
  });

  it("matches a password however its accents are composed (NFC)", async () => {
    const stored = await hashPassword("crème brûlée au café");
    const decomposed = "crème brûlée au café".normalize("NFD");
    expect((await verifyPassword(stored, decomposed)).ok).toBe(true);
  });

  // Vectors from the argon2 reference implementation's tests (phc-winner-argon2 src/test.c):
  // password "password", salt "somesalt".
  it("verifies reference vectors and asks to upgrade weaker parameters only", async () => {
    const stronger = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    const lessMemory = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
    const onePass = "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg";
    expect(await verifyPassword(stronger, "password")).toEqual({ ok: true, needsUpgrade: false });
    expect(await verifyPassword(lessMemory, "password")).toEqual({ ok: true, needsUpgrade: true });
    expect(await verifyPassword(onePass, "password")).toEqual({ ok: true, needsUpgrade: true });
    expect(await verifyPassword(lessMemory, "passwore")).toEqual({ ok: false, needsUpgrade: false });
  });

  it("verifies argon2i (also version 16) but neither imports it nor keeps it", async () => {
    const argon2i = "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8";
    const version16 = "$argon2i$m=65536,t=2,p=1$ZGlmZnNhbHQ$eaEDuQ/orvhXDLMfyLIiWXeJFvgza3vaw4kladTxxJc";
    for (const stored of [argon2i, version16]) {
      expect(describeHashFormat(stored)).toBeNull();
      expect(await verifyPassword(stored, "password")).toEqual({ ok: true, needsUpgrade: true });
    }
  });
});

describe("bcrypt", () => {
  it("verifies $2b$ hashes made by a bcrypt library, and asks for an upgrade", async () => {
    const stored = bcryptHashSync(PASSWORD, 4);
    expect(stored.startsWith("$2b$04$")).toBe(true);
    expect(describeHashFormat(stored)).toBe("bcrypt");
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: true, needsUpgrade: true });
    expect(await verifyPassword(stored, "wrong password")).toEqual({ ok: false, needsUpgrade: false });
  });

  it("verifies $2a$ and $2y$ spellings of the same hash", async () => {
    const stored = bcryptHashSync(PASSWORD, 4);
    for (const prefix of ["$2a$", "$2y$"]) {
      const variant = prefix + stored.slice(4);
      expect(describeHashFormat(variant)).toBe("bcrypt");
      expect(await verifyPassword(variant, PASSWORD)).toEqual({ ok: true, needsUpgrade: true });
    }
  });

  it("verifies published vectors", async () => {
    // Openwall crypt_blowfish test vector.
    const openwall = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    expect((await verifyPassword(openwall, "U*U")).ok).toBe(true);
    // The PHP manual's password_verify() example.
    const php = "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq";
    expect((await verifyPassword(php, "rasmuslerdorf")).ok).toBe(true);
    expect((await verifyPassword(php, "rasmuslerdorF")).ok).toBe(false);
  });
});

describe("Django PBKDF2-SHA256", () => {
  it("verifies Django's own test vector", async () => {
    // Django 3.2 tests/auth_tests/test_hashers.py: make_password("lètmein", "seasalt", "pbkdf2_sha256").
    const stored = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=";
    expect(describeHashFormat(stored)).toBe("pbkdf2_sha256");
    expect(await verifyPassword(stored, "lètmein")).toEqual({ ok: true, needsUpgrade: true });
    expect(await verifyPassword(stored, "lètmeinz")).toEqual({ ok: false, needsUpgrade: false });
  });

  it("verifies a hash computed with node:crypto in Django's form", async () => {
    const stored = djangoPbkdf2(PASSWORD, "Xb3q9ZkS1mUo", 1000);
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: true, needsUpgrade: true });
    expect((await verifyPassword(stored, PASSWORD.toUpperCase())).ok).toBe(false);
  });

  it("issue 19.3: imports Django 6.0's default 1,200,000 iterations, refuses more than 1,500,000 without computing them", async () => {
    const hash = randomBytes(32).toString("base64");
    expect(checkImportedHash(`pbkdf2_sha256$1200000$salt$${hash}`)).toEqual({ ok: true, format: "pbkdf2_sha256" });
    expect(checkImportedHash(`pbkdf2_sha256$1500000$salt$${hash}`)).toEqual({ ok: true, format: "pbkdf2_sha256" });
    const stored = `pbkdf2_sha256$1500001$salt$${hash}`;
    expect(checkImportedHash(stored)).toEqual({ ok: false, reason: "password_hash: PBKDF2 1,500,001 iterations are above FAMOS's limit of 1,500,000" });
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: false, needsUpgrade: false });
  });
});

describe("issue 19.3: work limits on imported hashes", () => {
  const salt = "c29tZXNhbHRzb21lc2FsdA";
  const argon2 = (m: number, t: number) => `$argon2id$v=19$m=${m},t=${t},p=1$${salt}$${"A".repeat(43)}`;

  it("imports bcrypt up to cost 12 and refuses cost 13 with the reason", async () => {
    expect(checkImportedHash("$2b$12$" + "a".repeat(53))).toEqual({ ok: true, format: "bcrypt" });
    const heavy = "$2y$13$" + "a".repeat(53);
    expect(checkImportedHash(heavy)).toEqual({ ok: false, reason: "password_hash: bcrypt cost 13 is above FAMOS's limit of 12" });
    expect(await verifyPassword(heavy, PASSWORD)).toEqual({ ok: false, needsUpgrade: false });
  });

  it("imports argon2id up to 64 MiB and t=4, refuses more memory or more passes with the reason", () => {
    expect(checkImportedHash(argon2(65_536, 4))).toEqual({ ok: true, format: "argon2id" });
    expect(checkImportedHash(argon2(65_537, 2))).toEqual({ ok: false, reason: "password_hash: argon2 memory m=65537 KiB is above FAMOS's limit of 65536 KiB (64 MiB)" });
    expect(checkImportedHash(argon2(262_144, 2))).toMatchObject({ ok: false, reason: /m=262144 KiB is above/ });
    expect(checkImportedHash(argon2(19_456, 5))).toEqual({ ok: false, reason: "password_hash: argon2 t=5 is above FAMOS's limit of 4" });
  });

  it("verifies bcrypt off the main thread: the event loop stays free while cost-10 hashes are checked", async () => {
    const stored = bcryptHashSync(PASSWORD, 10);
    const before = performance.eventLoopUtilization();
    const checks = await Promise.all([0, 1, 2, 3].map((i) => verifyPassword(stored.replace("$2b$", i % 2 ? "$2a$" : "$2b$"), PASSWORD)));
    const used = performance.eventLoopUtilization(before);
    expect(checks.every((c) => c.ok)).toBe(true);
    // bcryptjs computed in JavaScript on the event loop (utilisation near 1); native bcrypt waits in libuv.
    expect(used.utilization).toBeLessThan(0.5);
  });

  it("verifies imported hashes on a worker thread at the lowest scheduling priority (Linux nice 19)", async () => {
    const niceThreads = () =>
      readdirSync("/proc/self/task").filter((task) => {
        const stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]) === 19; // field 19, nice
      }).length;
    expect((await verifyPassword(djangoPbkdf2(PASSWORD, "nicesalt", 1000), PASSWORD)).ok).toBe(true);
    expect(niceThreads()).toBeGreaterThanOrEqual(1);
  });

  it("sends imported hashes through the bounded legacy pool, and FAMOS's own argon2id hashes past it", async () => {
    const pool = new LegacyPool({ concurrency: 1, maxQueued: 0, maxWaitingPerAccount: 0 });
    let release!: () => void;
    const holding = pool.run("someone else", () => new Promise<void>((resolve) => (release = resolve)));
    const own = await hashPassword(PASSWORD);
    expect(await verifyPassword(own, PASSWORD, pool)).toEqual({ ok: true, needsUpgrade: false });
    // The pool's one slot is taken and nothing may wait: an imported hash is not evaluated.
    const legacy = bcryptHashSync(PASSWORD, 4);
    expect(await verifyPassword(legacy, PASSWORD, pool)).toEqual({ ok: false, needsUpgrade: false, busy: true });
    expect(await verifyPassword(djangoPbkdf2(PASSWORD, "salt", 1000), PASSWORD, pool)).toMatchObject({ ok: false, busy: true });
    release();
    await holding;
    expect(await verifyPassword(legacy, PASSWORD, pool)).toEqual({ ok: true, needsUpgrade: true });
  });
});

describe("malformed and unknown hashes", () => {
  const good = {
    argon2id: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(43),
    bcrypt: "$2b$10$" + "a".repeat(53),
    pbkdf2: "pbkdf2_sha256$600000$salt$" + Buffer.alloc(32, 7).toString("base64"),
  };
  const bad = [
    "",
    "plain text",
    "$argon2id$",
    "$argon2id$v=19$m=19456,t=2$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(43), // no p
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(41), // bad base64 length
    "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(43), // 4 GiB
    "$argon2id$v=19$m=8,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(43), // m < 8p
    "$2b$03$" + "a".repeat(53), // cost below 4
    "$2b$32$" + "a".repeat(53), // cost above 31
    "$2b$31$" + "a".repeat(53), // over the work limit
    "$2b$10$" + "a".repeat(52),
    "$2b$10$" + "a".repeat(52) + "!",
    "$2x$10$" + "a".repeat(53),
    "pbkdf2_sha256$0$salt$" + Buffer.alloc(32).toString("base64"),
    "pbkdf2_sha256$-1$salt$" + Buffer.alloc(32).toString("base64"),
    "pbkdf2_sha256$1e6$salt$" + Buffer.alloc(32).toString("base64"),
    "pbkdf2_sha256$1000$$" + Buffer.alloc(32).toString("base64"), // empty salt
    "pbkdf2_sha256$1000$sa$lt$" + Buffer.alloc(32).toString("base64"),
    "pbkdf2_sha256$1000$salt$", // empty hash would match every password
    "pbkdf2_sha256$1000$salt$not*base64",
    "pbkdf2_sha256$1000$salt$QUJD", // 3 bytes
    "pbkdf2_sha1$1000$salt$" + Buffer.alloc(20).toString("base64"),
    "md5$salt$0123456789abcdef0123456789abcdef",
  ];

  it("accepts the well-formed examples the bad ones are made from", () => {
    expect(describeHashFormat(good.argon2id)).toBe("argon2id");
    expect(describeHashFormat(good.bcrypt)).toBe("bcrypt");
    expect(describeHashFormat(good.pbkdf2)).toBe("pbkdf2_sha256");
  });

  it.each(bad)("refuses %j without throwing", async (stored) => {
    expect(describeHashFormat(stored)).toBeNull();
    expect(await verifyPassword(stored, PASSWORD)).toEqual({ ok: false, needsUpgrade: false });
  });
});

// How long it takes beside a failed verification (the point of it) is checked by `npm run check:speed`.
describe("burnPasswordCheck", () => {
  it("runs an argon2id check for any password, odd ones included, and accepts nothing", async () => {
    for (const password of ["", "wrong password", "ç".repeat(1024), "\u{1F600} emoji"]) {
      await expect(burnPasswordCheck(password)).resolves.toBeUndefined();
    }
  });
});
