import { describe, expect, it } from "vitest";
import { durationInWords } from "../../src/config/duration.ts";
import { addressKey } from "../../src/regulation/address.ts";
import { LOCK_SUBJECT, PAUSE_SUBJECT, tellLockStarted } from "../../src/regulation/lock-notice.ts";
import { activeAddressLocks, addressLockInfo, countedAddress, loginLockInfo, unlockAddress, unlockLogin } from "../../src/regulation/locks.ts";
import { LOCALES } from "../../src/i18n/locales.ts";
import { userTranslator } from "../../src/i18n/translator.ts";
import { formatDateTime } from "../../src/platform/format.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";
import { useUnitStore } from "../support/unit-store.ts";

const MINUTE = 60_000;

describe("addressKey: how throttles count a client address", () => {
  it("counts IPv4 and IPv4-mapped IPv6 as the IPv4 address", () => {
    expect(addressKey("203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("::ffff:192.168.100.200")).toBe("192.168.100.200");
    expect(addressKey("::FFFF:203.0.113.9")).toBe("203.0.113.9");
  });
  it("counts an IPv4-mapped address as its IPv4 address however it is spelt, never as the /64 every mapped address shares", () => {
    // RFC 4291 §2.5.5.2: ::ffff:0:0/96 holds the IPv4 addresses; RFC 5952 §5 allows them in hex too. A
    // proxy's X-Forwarded-For (or the console's "Unlock address") written so must not fall into
    // 0:0:0:0::/64, where every IPv4 client spelt so would share one count and one pause.
    expect(addressKey("::ffff:cb00:7109")).toBe("203.0.113.9");
    expect(addressKey("0:0:0:0:0:ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressKey("0000:0000:0000:0000:0000:FFFF:CB00:7109")).toBe("203.0.113.9");
    expect(addressKey("::ffff:7f00:1")).toBe(addressKey("::ffff:127.0.0.1"));
    expect(countedAddress("::ffff:c000:207")).toBe("192.0.2.7");
    // Not mapped: the /64 as before.
    expect(addressKey("::1:ffff:cb00:7109")).toBe("0:0:0:0::/64");
  });
  it("counts a NAT64 well-known-prefix address as its embedded IPv4 address; a deprecated IPv4-compatible one by its /64", () => {
    // RFC 6052 §2.1: 64:ff9b::/96 holds an IPv4 address in its last 32 bits, put there by the gateway
    // from the IPv4 client's own address: each IPv4 client its own count (and the one it has directly),
    // not the /64 every client of the gateway shares.
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("192.0.2.33");
    expect(addressKey("64:ff9b::c000:221")).toBe("192.0.2.33");
    expect(addressKey("0064:FF9B:0000:0000:0000:0000:C000:0221")).toBe("192.0.2.33");
    expect(addressKey("64:ff9b::198.51.100.7")).not.toBe(addressKey("64:ff9b::192.0.2.33"));
    expect(countedAddress("64:ff9b::cb00:7109")).toBe("203.0.113.9");
    // Outside the /96 (RFC 8215's local-use 64:ff9b:1::/48, or bits 64–95 set): an IPv6 /64 as any other.
    expect(addressKey("64:ff9b:1::c000:221")).toBe("64:ff9b:1:0::/64");
    expect(addressKey("64:ff9b::1:c000:221")).toBe("64:ff9b:0:0::/64");
    // RFC 4291 §2.5.5.1: ::a.b.c.d is deprecated and made by no gateway from a real IPv4 source: it is
    // not taken as the IPv4 client (which whoever can send it would then count against), but as ::/64.
    expect(addressKey("::192.0.2.33")).toBe("0:0:0:0::/64");
    expect(addressKey("::c000:221")).toBe(addressKey("::1"));
  });
  it("counts IPv6 by its /64, written one way however it was spelt", () => {
    expect(addressKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0DB8:0001:0002:ffff::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("::")).toBe("0:0:0:0::/64");
    expect(addressKey("2001:db8:1:2::")).toBe("2001:db8:1:2::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("1::ffff:1.2.3.4")).toBe("1:0:0:0::/64");
    // An embedded IPv4 address fills two groups, so the zeros before it are one group fewer.
    expect(addressKey("1::2:3:4:5:1.2.3.4")).toBe("1:0:2:3::/64");
    expect(addressKey("1:2:3:4:5:6:1.2.3.4")).toBe("1:2:3:4::/64");
  });
  it("keeps anything else as it came, at most 64 characters", () => {
    expect(addressKey("::ffff:1.2.3.4x")).toBe("::ffff:1.2.3.4x");
    // Not a dotted quad after ::ffff: (letters, or too few parts): not an address, so not an IPv4 key either.
    for (const junk of ["::ffff:a.1.2.3", "::ffff:1.a.b.c", "::ffff:1.2"]) expect(addressKey(junk)).toBe(junk);
    expect(addressKey("not-an-address")).toBe("not-an-address");
    expect(addressKey("z".repeat(100))).toBe("z".repeat(64));
    expect(addressKey("")).toBe("");
    expect(countedAddress("2001:db8:5:6::9")).toBe("2001:db8:5:6::/64");
  });
});

describe("locks as support sees and lifts them (unit tier)", () => {
  const unit = useUnitStore();
  const db = () => unit.db;
  const now = unit.now;
  const put = (key: string, failures: number, lockedUntil: number, hard = 0, windowStartedAt = 0) => unit.putThrottle(key, { failures, lockedUntil, hardLocked: hard === 1, windowStartedAt });
  const device = (id: string, loginKey: string) => db().insertInto("devices").values({ id, login_key: loginKey, created_at: now(), last_used_at: now(), revoked_at: null }).execute();

  it("shows nothing for a login ID without counters", async () => {
    expect(await loginLockInfo(db(), "clean", now())).toEqual({ passwordFailures: 0, codeFailures: 0, hardLocked: false, lockedUntil: null, locked: false, devices: [], reset: { failures: 0, locked: false, until: null } });
    expect(await unlockLogin(db(), "clean")).toBe(false);
  });

  it("shows each kind's failures, the lock that ends last, and the devices with failures", async () => {
    await put("password:id:gina", 3, now() + 2 * MINUTE);
    await put("code:id:gina", 2, now() + 5 * MINUTE);
    // The self-service reset's own lock: shown apart, never the sign-in's (it ends later here).
    await put("reset:id:gina", 6, now() + 10 * MINUTE);
    await device("g-1", "gina");
    await device("g-2", "gina");
    await device("g-3", "gina");
    await put("password:dev:g-1", 4, now() + MINUTE);
    await put("code:dev:g-1", 1, now() - 1);
    await put("code:dev:g-2", 2, now());
    await put("password:dev:g-3", 0, 0);
    expect(await loginLockInfo(db(), "gina", now())).toEqual({
      passwordFailures: 3,
      codeFailures: 2,
      hardLocked: false,
      lockedUntil: now() + 5 * MINUTE,
      locked: true,
      devices: [
        { deviceId: "g-1", failures: 5, lockedUntil: now() + MINUTE, hardLocked: false },
        { deviceId: "g-2", failures: 2, lockedUntil: null, hardLocked: false },
      ],
      reset: { failures: 6, locked: true, until: now() + 10 * MINUTE },
    });
    unit.clock.advance(5 * MINUTE);
    expect(await loginLockInfo(db(), "gina", now())).toMatchObject({ lockedUntil: null, locked: false, passwordFailures: 3 });
    unit.clock.advance(-1);
    expect(await loginLockInfo(db(), "gina", now())).toMatchObject({ lockedUntil: now() + 1, locked: true });
    unit.clock.advance(1);

    expect(await unlockLogin(db(), "gina")).toBe(true);
    expect(await loginLockInfo(db(), "gina", now())).toEqual({ passwordFailures: 0, codeFailures: 0, hardLocked: false, lockedUntil: null, locked: false, devices: [], reset: { failures: 0, locked: false, until: null } });
    expect(await db().selectFrom("throttles").select("key").where("key", "like", "%g-%").execute()).toEqual([]);
  });

  it("a lock until support unlocks shows as locked without an end, and Unlock lifts it; other login IDs' counters stay", async () => {
    await put("code:id:hank", 100, now() - MINUTE, 1);
    await put("password:id:hank2", 1, 0);
    const info = await loginLockInfo(db(), "hank", now());
    expect(info).toMatchObject({ hardLocked: true, locked: true, lockedUntil: null, codeFailures: 100, passwordFailures: 0 });
    expect(await unlockLogin(db(), "hank")).toBe(true);
    expect(await loginLockInfo(db(), "hank", now())).toMatchObject({ hardLocked: false, locked: false });
    expect(await loginLockInfo(db(), "hank2", now())).toMatchObject({ passwordFailures: 1 });
    // A device's hard flag is not the login ID's.
    await device("i-1", "ivy");
    await put("code:dev:i-1", 3, 0, 1);
    expect(await loginLockInfo(db(), "ivy", now())).toMatchObject({ hardLocked: false, locked: false });
  });

  it("shows an address's counter and its lock; lists locked addresses longest first; Unlock address lifts one", async () => {
    await put("ip:203.0.113.10", 50, now() + 2 * MINUTE, 0, now() - MINUTE);
    await put("ip:203.0.113.11", 60, now() + 9 * MINUTE, 0, now());
    await put("ip:203.0.113.12", 10, 0, 0, now());
    await put("ip:203.0.113.13", 55, now(), 0, now());
    await put("ip:2001:db8:7:7::/64", 51, now() + 4 * MINUTE, 0, now());
    await put("password:id:ip", 9, now() + 99 * MINUTE);
    expect(await addressLockInfo(db(), "203.0.113.10", now())).toEqual({ address: "203.0.113.10", failures: 50, windowStartedAt: now() - MINUTE, lockedUntil: now() + 2 * MINUTE });
    expect(await addressLockInfo(db(), "203.0.113.12", now())).toEqual({ address: "203.0.113.12", failures: 10, windowStartedAt: now(), lockedUntil: null });
    expect(await addressLockInfo(db(), "203.0.113.99", now())).toBeNull();
    // A lock that ends now is over.
    expect(await addressLockInfo(db(), "203.0.113.13", now())).toMatchObject({ failures: 55, lockedUntil: null });
    expect((await activeAddressLocks(db(), now())).map((l) => l.address)).toEqual(["203.0.113.11", "2001:db8:7:7::/64", "203.0.113.10"]);

    expect(await unlockAddress(db(), "2001:db8:7:7:1:2:3:4", now())).toEqual({ address: "2001:db8:7:7::/64", failures: 51, windowStartedAt: now(), lockedUntil: now() + 4 * MINUTE });
    expect(await addressLockInfo(db(), "2001:db8:7:7::1", now())).toBeNull();
    expect(await unlockAddress(db(), "203.0.113.99", now())).toBeNull();
    expect(await addressLockInfo(db(), "203.0.113.11", now())).not.toBeNull();
  });
});

describe("the lock notice (unit tier)", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  const mails = (userId: string) => unit.db.selectFrom("outbox").selectAll().where("user_id", "=", userId).execute();

  it("mails the holder's confirmed address when a timed lock starts: how long, until when, after how many of what", async () => {
    const user = await addUser(unit.deps);
    const before = unit.queued;
    await tellLockStarted(unit.deps, user, "password", { lockStarted: true, hardLocked: false, failures: 5, lockedUntil: now() + 2 * MINUTE, pause: null }, now());
    const [mail, ...more] = await mails(user.id);
    expect(more).toEqual([]);
    // The subject says what the body says: paused, for a while; "locked" is the lock until IT unlocks it.
    expect(mail).toMatchObject({ recipient: user.otp_email, kind: "lock", subject: PAUSE_SUBJECT, state: "queued" });
    expect([PAUSE_SUBJECT, LOCK_SUBJECT]).toEqual(["FAMOS sign-in paused", "FAMOS sign-in locked"]);
    const text = mail!.text_body.replace(/\s+/g, " ");
    expect(durationInWords(2 * MINUTE)).toBe("2 minutes");
    expect(text).toContain(
      `Sign-in to FAMOS with the login ID ${user.login_id} from new browsers has been paused for 2 minutes (until ${formatDateTime(now() + 2 * MINUTE, unit.deps.config.timezone)} UK time) after 5 wrong passwords in a row.`,
    );
    expect(text).toContain(
      `If this was you, wait and try again. If it was not you, someone may be trying to sign in as you: change your password on the Profile tab when you next sign in, or write to your retail IT team at ${unit.deps.config.supportEmail}.`,
    );
    expect(unit.queued).toBe(before + 1);
  });

  it("says the minute a lock is over by, rounded up: one ending at 14:01:30 says 14:02, in every language", async () => {
    // The lock starts at the failure that set it, mid-minute: cut to the minute, "until 14:01" would
    // have the holder try at 14:01 and be refused again (the pages' rule, pauseEnd).
    const start = Date.UTC(2026, 10, 28, 14, 0, 30);
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      await tellLockStarted(unit.deps, user, "password", { lockStarted: true, hardLocked: false, failures: 5, lockedUntil: start + MINUTE, pause: null }, start);
      const [mail] = await mails(user.id);
      const text = mail!.text_body.replace(/\s+/g, " ");
      const tz = unit.deps.config.timezone;
      expect(text, locale).toContain(formatDateTime(Date.UTC(2026, 10, 28, 14, 2), tz, locale));
      expect(text, locale).not.toContain(formatDateTime(Date.UTC(2026, 10, 28, 14, 1), tz, locale));
    }
  });

  it("names the zone of the time a pause ends, in the holder's zone and language, as the code's mail names its end: for sign-in and the reset's pause alike", async () => {
    // A holder in Madrid of a London-run FAMOS read "(until 28/11/2026 14:01)" an hour wrong.
    const end = now() + 2 * MINUTE;
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale, time_zone: "Europe/Madrid" };
      const t = userTranslator(unit.deps.config, user);
      const until = t.withZone(t.dateTime(end), end, false);
      expect(until, locale).toContain(t.zone(end));
      for (const kind of ["password", "reset"] as const) {
        await tellLockStarted(unit.deps, user, kind, { lockStarted: true, hardLocked: false, failures: 5, lockedUntil: end, pause: null }, now());
      }
      const sent = await mails(user.id);
      expect(sent, locale).toHaveLength(2);
      for (const mail of sent) {
        expect(mail.text_body.replace(/\s+/g, " "), `${locale}: ${mail.subject}`).toContain(until);
        expect(mail.html_body, `${locale}: ${mail.subject}`).toContain(t.zone(end));
      }
    }
  });

  it("a timed lock's subject says paused as its body does, a lock until IT unlocks it says locked, for sign-in and the reset, in every language", async () => {
    const started = { lockStarted: true, failures: 5, pause: null };
    const expected: Record<string, string[]> = {
      "en-GB": ["FAMOS sign-in paused", "FAMOS sign-in locked", "FAMOS password reset paused", "FAMOS password reset locked"],
      de: ["FAMOS-Anmeldung ausgesetzt", "FAMOS-Anmeldung gesperrt", "FAMOS-Passwortzurücksetzung ausgesetzt", "FAMOS-Passwortzurücksetzung gesperrt"],
      fr: ["Connexion à FAMOS suspendue", "Connexion à FAMOS bloquée", "Réinitialisation du mot de passe FAMOS suspendue", "Réinitialisation du mot de passe FAMOS bloquée"],
      it: ["Accesso a FAMOS sospeso", "Accesso a FAMOS bloccato", "Reimpostazione della password FAMOS sospesa", "Reimpostazione della password FAMOS bloccata"],
      es: ["Inicio de sesión en FAMOS pausado", "Inicio de sesión en FAMOS bloqueado", "Restablecimiento de contraseña de FAMOS pausado", "Restablecimiento de contraseña de FAMOS bloqueado"],
      nl: ["FAMOS-aanmelding gepauzeerd", "FAMOS-aanmelding geblokkeerd", "FAMOS-wachtwoordherstel gepauzeerd", "FAMOS-wachtwoordherstel geblokkeerd"],
    };
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      for (const kind of ["password", "reset"] as const) {
        await tellLockStarted(unit.deps, user, kind, { ...started, hardLocked: false, lockedUntil: now() + 2 * MINUTE }, now());
        await tellLockStarted(unit.deps, user, kind, { ...started, hardLocked: true, lockedUntil: Infinity }, now());
      }
      expect((await mails(user.id)).map((m) => m.subject), locale).toEqual(expected[locale]);
    }
  });

  it("keeps each sentence in one paragraph, in every language and every kind of lock (a screen reader pauses between paragraphs)", async () => {
    const started = { lockStarted: true, failures: 5, pause: null };
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      await tellLockStarted(unit.deps, user, "password", { ...started, hardLocked: false, lockedUntil: now() + 2 * MINUTE }, now());
      await tellLockStarted(unit.deps, user, "code", { ...started, hardLocked: true, lockedUntil: Infinity }, now());
      await tellLockStarted(unit.deps, user, "reset", { ...started, hardLocked: false, lockedUntil: now() + 2 * MINUTE }, now());
      await tellLockStarted(unit.deps, user, "reset", { ...started, hardLocked: true, lockedUntil: Infinity }, now());
      await tellLockStarted(unit.deps, user, "code", { ...started, hardLocked: true, lockedUntil: Infinity }, now(), "device");
      const sent = await mails(user.id);
      expect(sent, locale).toHaveLength(5);
      for (const mail of sent) {
        const paragraphs = mail.text_body.split("\n\n");
        // Every paragraph ends a sentence: none stops mid-sentence to go on in the next one.
        for (const p of paragraphs) expect(p, `${locale}: ${mail.subject}`).toMatch(/[.!?]$/);
        expect(mail.html_body.match(/<p>/g), `${locale}: ${mail.subject}`).toHaveLength(paragraphs.length);
      }
    }
  });

  it("tells wrong codes as such, and a lock until support unlocks with how to get it lifted", async () => {
    const user = await addUser(unit.deps);
    await tellLockStarted(unit.deps, user, "code", { lockStarted: true, hardLocked: false, failures: 6, lockedUntil: now() + 90_000, pause: null }, now());
    await tellLockStarted(unit.deps, user, "code", { lockStarted: true, hardLocked: true, failures: 100, lockedUntil: Infinity, pause: null }, now());
    const [timed, hard] = (await mails(user.id)).map((m) => m.text_body.replace(/\s+/g, " "));
    expect(timed).toContain("has been paused for 90 seconds");
    expect(timed).toContain("after 6 wrong one time passcodes in a row.");
    expect(hard).toContain(`Sign-in to FAMOS with the login ID ${user.login_id} has been locked after 100 wrong one time passcodes in a row.`);
    expect(hard).toContain(`It stays locked until your retail IT team unlocks it: write to ${unit.deps.config.supportEmail}.`);
    expect(hard).not.toContain("paused");
    // 100 wrong codes come after the right password: whoever typed them knows it.
    expect(hard).toContain("If this was not you, someone knows your password: change it on the Profile tab once your sign-in is unlocked.");
  });

  it("a lock after wrong passwords does not say the password is known", async () => {
    const user = await addUser(unit.deps);
    await tellLockStarted(unit.deps, user, "password", { lockStarted: true, hardLocked: true, failures: 100, lockedUntil: Infinity, pause: null }, now());
    await tellLockStarted(unit.deps, user, "code", { lockStarted: true, hardLocked: true, failures: 100, lockedUntil: Infinity, pause: null }, now());
    const [passwords, codes] = await mails(user.id);
    const hard = passwords!.text_body.replace(/\s+/g, " ");
    expect(hard).toContain("has been locked after 100 wrong passwords in a row.");
    expect(hard).not.toContain("someone knows your password");
    // Nothing in its place either: the codes' mail is the same but for that one paragraph.
    expect(passwords!.text_body.split("\n\n").length).toBe(codes!.text_body.split("\n\n").length - 1);
  });

  it("a browser's lock until support unlocks (device cookie) says it is that browser's, and what to do if the attempts were not the owner's, as the other lock mails do", async () => {
    const user = await addUser(unit.deps);
    await tellLockStarted(unit.deps, user, "code", { lockStarted: true, hardLocked: true, failures: 100, lockedUntil: Infinity, pause: null }, now(), "device");
    const [mail] = await mails(user.id);
    const text = mail!.text_body.replace(/\s+/g, " ");
    expect(mail!.subject).toBe("FAMOS sign-in locked");
    expect(text).toContain(`Sign-in to FAMOS with the login ID ${user.login_id} has been locked on one browser, the one where there were 100 wrong one time passcodes in a row.`);
    expect(text).toContain(`That browser stays locked until your retail IT team unlocks it; your other browsers and devices are not affected.`);
    expect(text).toContain(
      `If this was not you, someone who knows your password may have used a computer where you signed in: change your password on the Profile tab from another browser, and write to your retail IT team at ${unit.deps.config.supportEmail}.`,
    );
  });

  it("mails nobody when no lock started, for a login ID without an account, or without a confirmed address", async () => {
    const user = await addUser(unit.deps);
    const unconfirmed = await addUser(unit.deps, { email: null });
    const before = unit.queued;
    const started = { lockStarted: true, hardLocked: false, failures: 5, lockedUntil: now() + MINUTE, pause: null };
    await tellLockStarted(unit.deps, user, "password", { ...started, lockStarted: false }, now());
    await tellLockStarted(unit.deps, undefined, "password", started, now());
    await tellLockStarted(unit.deps, unconfirmed, "password", started, now());
    expect(await mails(user.id)).toEqual([]);
    expect(await mails(unconfirmed.id)).toEqual([]);
    expect(unit.queued).toBe(before);
  });
});
