import { describe, expect, it } from "vitest";
import { LOCALES } from "../../src/i18n/locales.ts";
import { tellLockStarted } from "../../src/regulation/lock-notice.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

const MINUTE = 60_000;

/**
 * A timed lock is a pause, and only of some browsers (SPEC "Locks"): the login ID's pause refuses
 * browsers that never completed a sign-in for it, while a browser holding its device cookie goes on;
 * a browser's own pause (device cookie) stops that browser alone. The mail's subject and body say the
 * same word ("paused"), and the body says which browsers, as the sign-in page's pause message does.
 */
describe("the pause notice says what is paused", () => {
  const unit = useUnitDeps();
  const now = unit.now;
  const mails = (userId: string) => unit.db.selectFrom("outbox").selectAll().where("user_id", "=", userId).execute();
  const timed = () => ({ lockStarted: true, hardLocked: false, failures: 5, lockedUntil: now() + 2 * MINUTE, pause: null });

  it("the login ID's pause: new browsers only; a browser signed in before still works", async () => {
    const user = await addUser(unit.deps);
    await tellLockStarted(unit.deps, user, "password", timed(), now());
    const [mail] = await mails(user.id);
    const text = mail!.text_body.replace(/\s+/g, " ");
    expect(mail!.subject).toBe("FAMOS sign-in paused");
    expect(text).toContain(`Sign-in to FAMOS with the login ID ${user.login_id} from new browsers has been paused for 2 minutes`);
    // Unless that browser is paused too: at a shared counter PC a colleague may have paused it first (SECURITY.md known limit 6).
    expect(text).toContain("A browser where you have signed in with this login ID before can still be used unless sign-in has been paused there too.");
    expect(text).not.toMatch(/\blocked\b/);
  });

  it("the login ID's pause: every language says a browser signed in before works unless it is paused too", async () => {
    const expected: Record<string, string> = {
      "en-GB": "can still be used unless sign-in has been paused there too.",
      de: "kann weiter verwendet werden, sofern die Anmeldung dort nicht ebenfalls ausgesetzt ist.",
      fr: "reste utilisable, sauf si la connexion y est suspendue elle aussi.",
      it: "si può ancora usare, a meno che l’accesso non sia sospeso anche lì.",
      es: "se puede seguir usando, salvo que el inicio de sesión también esté en pausa allí.",
      nl: "kunt u nog gebruiken, tenzij aanmelden daar ook is gepauzeerd.",
    };
    expect(Object.keys(expected).sort()).toEqual([...LOCALES].sort());
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      await tellLockStarted(unit.deps, user, "password", timed(), now());
      const [mail] = await mails(user.id);
      expect(mail!.text_body.replace(/\s+/g, " "), locale).toContain(expected[locale]!);
    }
  });

  it("a browser's own pause: that browser only", async () => {
    const user = await addUser(unit.deps);
    await tellLockStarted(unit.deps, user, "password", timed(), now(), "device");
    const [mail] = await mails(user.id);
    const text = mail!.text_body.replace(/\s+/g, " ");
    expect(mail!.subject).toBe("FAMOS sign-in paused on one browser");
    expect(text).toContain(`Sign-in to FAMOS with the login ID ${user.login_id} has been paused for 2 minutes`);
    expect(text).toContain("on one browser, the one where there were 5 wrong passwords in a row; your other browsers and devices are not affected.");
    expect(text).not.toContain("new browsers");
  });

  it("a browser's own pause: the subject says what was paused (one browser), in every language, as its body does", async () => {
    const expected: Record<string, [subject: string, inBody: string]> = {
      "en-GB": ["FAMOS sign-in paused on one browser", "on one browser"],
      de: ["FAMOS-Anmeldung in einem Browser ausgesetzt", "in einem Browser"],
      fr: ["Connexion à FAMOS suspendue sur un navigateur", "sur un navigateur"],
      it: ["Accesso a FAMOS sospeso su un browser", "su un browser"],
      es: ["Inicio de sesión en FAMOS pausado en un navegador", "en un navegador"],
      nl: ["FAMOS-aanmelding gepauzeerd in één browser", "in één browser"],
    };
    expect(Object.keys(expected).sort()).toEqual([...LOCALES].sort());
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      await tellLockStarted(unit.deps, user, "password", timed(), now(), "device");
      const [mail] = await mails(user.id);
      const [subject, inBody] = expected[locale]!;
      expect(mail!.subject, locale).toBe(subject);
      expect(mail!.text_body.replace(/\s+/g, " "), locale).toContain(inBody);
    }
  });

  it("in every language, the word of the subject is the word of the body, and the two pauses read differently", async () => {
    for (const locale of LOCALES) {
      const user = { ...(await addUser(unit.deps)), locale };
      await tellLockStarted(unit.deps, user, "password", timed(), now());
      await tellLockStarted(unit.deps, user, "password", timed(), now(), "device");
      await tellLockStarted(unit.deps, user, "password", { ...timed(), hardLocked: true, lockedUntil: Infinity }, now());
      const sent = await mails(user.id);
      expect(sent, locale).toHaveLength(3);
      for (const mail of sent) {
        const word = mail.subject.split(/[\s-]/).at(-1)!.toLowerCase();
        expect(mail.text_body.split("\n\n")[0]!.toLowerCase(), `${locale}: ${mail.subject}`).toContain(word);
      }
      const [loginId, device] = sent.map((m) => m.text_body.split("\n\n")[0]);
      // The login ID's pause says, in a second sentence, that a known browser goes on.
      expect(loginId!.split(/[.!?] /).length, locale).toBeGreaterThanOrEqual(2);
      expect(device!.split(/[.!?] /).length, locale).toBe(1);
    }
  });
});
