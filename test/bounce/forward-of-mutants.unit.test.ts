import { describe, expect, it } from "vitest";
import { recordBounce } from "../../src/bounce/record-bounce.ts";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { addUser } from "../support/app.ts";
import { useUnitDeps } from "../support/unit-app.ts";

/**
 * A report of a forward (forwardOf, src/bounce/forward-reports.ts): a Final-Recipient (the webhook's
 * `recipient`) that is another address than the one mailed, compared as addresses are (addressKey), in or
 * without <…>, marks nothing of the address mailed; the address named is shown as reasonText makes a
 * stranger's text. Run C18: only the integration tier's forward-bounce.test asked it before.
 */
describe("forwardOf (unit tier)", () => {
  const unit = useUnitDeps();
  const db = () => unit.deps.db;
  const MAILED = "desk@dealer.example";
  async function mailed() {
    const user = await addUser(unit.deps, { email: MAILED });
    return enqueueMail(db(), unit.now(), unit.deps.random, unit.deps.mailDomain, { userId: user.id, kind: "code.signin", recipient: MAILED, subject: "s", text: "t", html: "<p>t</p>" });
  }
  const bounce = (outboxId: string, finalRecipient: string | null | undefined) =>
    recordBounce(unit.deps, { outboxId, kind: "hard", status: "5.1.1", reason: "550 no such user", ...(finalRecipient === undefined ? {} : { finalRecipient }) }, "webhook");
  const marked = async (id: string) => (await db().selectFrom("outbox").select("bounce_kind").where("id", "=", id).executeTakeFirstOrThrow()).bounce_kind;

  it("no address named, or the mailed one in other letters, spaces or <…>, is the address mailed's own report", async () => {
    for (const named of [undefined, null, "", "   ", "<>", MAILED, " <Desk@Dealer.EXAMPLE> ", "  DESK@dealer.example\t"]) {
      const id = await mailed();
      expect(await bounce(id, named), JSON.stringify(named)).toEqual({ kind: "recorded", bounce: "hard", recipient: MAILED });
      expect(await marked(id), JSON.stringify(named)).toBe("hard");
    }
  });

  it("another address is a forward's: named without its <…>, once, the message marked bounced alone and the address mailed not at all", async () => {
    const forwards = () => db().selectFrom("audit").select(["event", "detail"]).where("event", "=", "mail.forward-bounced").orderBy("id").execute();
    const before = (await forwards()).length;
    const id = await mailed();
    expect(await bounce(id, " <jane@dealer.example> ")).toEqual({ kind: "recorded", bounce: "hard", recipient: MAILED, forwardedTo: "jane@dealer.example" });
    expect(await marked(id)).toBeNull();
    expect(await bounce(id, "<jane@dealer.example>")).toEqual({ kind: "duplicate" });
    const audit = (await forwards()).slice(before);
    expect(audit).toHaveLength(1);
    expect(JSON.parse(String(audit[0]!.detail))).toMatchObject({ to: MAILED, forwardedTo: "jane@dealer.example" });
  });

  it("only a whole <…> is taken off; the address named is shown as a stranger's text (reasonText)", async () => {
    for (const [named, shown] of [
      ["x<jane@dealer.example>", "x<jane@dealer.example>"],
      ["<jane@dealer.example>x", "<jane@dealer.example>x"],
      ["<desk@dealer.example>>", "desk@dealer.example>"],
      ["jane@dealer.example\u001b[2J\r\nX", "jane@dealer.example [2J X"],
    ] as const) {
      expect(await bounce(await mailed(), named), named).toMatchObject({ forwardedTo: shown });
    }
  });
});
