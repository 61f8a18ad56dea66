import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/app/deps.ts";
import { queryAudit } from "../../src/audit/audit.ts";
import { loadSignedIn } from "../../src/session/sessions.ts";
import { cancelSignIn, confirmCode } from "../../src/signin/code-step.ts";
import { passwordStep } from "../../src/signin/password-step.ts";
import { addUser } from "../support/app.ts";
import { liveCodeMails } from "../support/mailbox.ts";
import { extractCode } from "../support/smtp.ts";
import { useCompeting } from "../store/competing-change.ts";
import { DIALECTS, type TestDialect } from "../store/dialects.ts";

/**
 * OTP capture's Cancel and Confirm of one sign-in arriving together (two tabs, a double click landing on
 * both buttons), each request with the session as it loaded it before the other was answered, on two
 * instances. Either the sign-in completes — the session live and past its code, the code used, Cancel a
 * no-op that says so ("moved") and writes nothing — or it is cancelled — no live session, the code void,
 * never used, no code.confirmed. Never a cancelled flow with a live session, nor a confirmed code on a
 * cancelled flow. Before, a Cancel that read the session before the Confirm committed ended the session the
 * Confirm had just signed in (endSession by its id alone): code.confirmed and code.cancelled for one sign-in.
 */
describe.each(DIALECTS)("Cancel racing Confirm at OTP capture, on %s", (dialect: TestDialect) => {
  const competing = useCompeting(dialect, "cancelconfirm");
  const a = () => competing.t.deps[0]!;
  const b = () => competing.t.deps[1]!;
  const ctx = { ip: "192.0.2.93", userAgent: "cancel-confirm-race", deviceTokens: [] };

  /** A user at OTP capture, the session as each of the two requests loaded it (with its flow), and the code. */
  async function atCode(confirmOn: Deps = a(), cancelOn: Deps = b()) {
    const user = await addUser(a());
    const step = await passwordStep(a(), { loginId: user.login_id, password: user.password, returnTo: null }, ctx);
    if (step.kind !== "code") throw new Error(`expected the code step, got ${step.kind}`);
    const [mail] = await liveCodeMails(a().db, user.id);
    const code = extractCode(mail!.text_body);
    const now = a().clock.now();
    const [forConfirm, forCancel] = await Promise.all([confirmOn, cancelOn].map(async (deps) => (await loadSignedIn(deps.db, step.token, now, deps.config.session, true))!));
    return {
      user,
      sessionId: step.session.id,
      flowId: step.session.flow_id!,
      confirm: (deps: Deps = confirmOn) => confirmCode(deps, forConfirm!.user, forConfirm!.session, code, ctx, forConfirm!.flow),
      cancel: (deps: Deps = cancelOn) => cancelSignIn(deps, forCancel!.user, forCancel!.session, ctx),
    };
  }

  /** The one sign-in as the database has it afterwards: which of the two outcomes, and that it is whole. */
  async function settled(s: Awaited<ReturnType<typeof atCode>>) {
    const db = a().db;
    const session = await db.selectFrom("sessions").select(["stage", "ended_at", "end_reason"]).where("id", "=", s.sessionId).executeTakeFirstOrThrow();
    const codes = await db.selectFrom("codes").select(["consumed_at", "voided_at", "void_reason"]).where("flow_id", "=", s.flowId).execute();
    const events = async (event: string) => (await queryAudit(db, { subject: s.user.login_id, event })).length;
    const trail = { confirmed: await events("code.confirmed"), cancelled: await events("code.cancelled"), reused: await events("code.reused") };
    const live = await db.selectFrom("sessions").select("id").where("user_id", "=", s.user.id).where("ended_at", "is", null).execute();
    if (session.ended_at === null) {
      expect(session.stage).toBe("full");
      expect(codes).toEqual([expect.objectContaining({ voided_at: null, consumed_at: expect.anything() })]);
      expect(trail).toEqual({ confirmed: 1, cancelled: 0, reused: 0 });
      return "signed-in" as const;
    }
    expect(session.end_reason).toBe("cancelled");
    expect(live).toEqual([]);
    expect(codes).toEqual([expect.objectContaining({ consumed_at: null, void_reason: "cancelled" })]);
    expect(trail).toEqual({ confirmed: 0, cancelled: 1, reused: 0 });
    return "cancelled" as const;
  }

  it("Confirm answered first, then the Cancel that had loaded the session before it: signed in, and Cancel a no-op that says so", async () => {
    const s = await atCode();
    expect((await s.confirm()).kind).toBe("signed-in");
    expect(await s.cancel()).toEqual({ kind: "moved" });
    expect(await settled(s)).toBe("signed-in");
  });

  it("Cancel answered first, then the Confirm that had loaded the session before it: cancelled, the code void and never used", async () => {
    const s = await atCode();
    expect(await s.cancel()).toEqual({ kind: "ended" });
    expect((await s.confirm()).kind).not.toBe("signed-in");
    expect(await settled(s)).toBe("cancelled");
  });

  it("Cancel committed after Confirm read the code and before it used it: cancelled, the Confirm refused with nothing written, no code.reused", async () => {
    const arranged: { s?: Awaited<ReturnType<typeof atCode>> } = {};
    // Confirm's first read that returns the code's row (matchCode) waits for the Cancel to commit.
    const racing = competing.during((rows) => rows.some((r) => "code_hash" in r), () => arranged.s!.cancel(b()));
    const s = (arranged.s = await atCode(racing.deps, b()));
    expect(await s.confirm()).toEqual({ kind: "used" });
    expect(racing.changed()).toBe(true);
    expect(await settled(s)).toBe("cancelled");
  });

  it("both at once, twenty rounds: each round is one whole outcome", async () => {
    for (let round = 0; round < 20; round += 1) {
      // Two instances on PostgreSQL; on SQLite one (a server owns its database file), as the repo's other races.
      const s = await atCode(a(), dialect === "postgres" ? b() : a());
      const [confirmed, cancelled] = await Promise.all([s.confirm(), s.cancel()]);
      const outcome = await settled(s);
      expect([outcome, confirmed.kind === "signed-in", cancelled.kind], `round ${round}`).toEqual(outcome === "signed-in" ? ["signed-in", true, "moved"] : ["cancelled", false, "ended"]);
    }
  });
});
