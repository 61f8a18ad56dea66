import type { Deps } from "../app/deps.ts";
import type { AuditEntry } from "../audit/audit.ts";
import { explainMissingCode, spendCode, type CodeMatch, type VerifyOutcome } from "./codes.ts";
import type { Flow } from "./flows.ts";

/**
 * The code typed for a flow as one verdict, each kind with one meaning (refuseProof, the one home of what
 * follows it): "ok" (the code used by this request), "used" (the used code again), "spent" (the flow's code
 * used, another typed) and "voided" (the right code voided before its use) guess nothing; "wrong",
 * "expired", "void" and "no-code" (no open flow of the account typed, or none of its codes to compare) are
 * guesses. checkCode reaches the same kinds in two steps (matchCode before the confirming transaction,
 * spendCode inside it, with the flow's finish); the reset's use comes before its hash, outside any
 * transaction, so it takes them here at once.
 */
export type CodeVerdict = { kind: "ok" } | { kind: "voided" } | { kind: "no-code" } | Exclude<VerifyOutcome, { kind: "ok" }>;

/** The verdicts that are guesses: counted, with their line (codeRefusedLine). */
export type CodeGuess = Exclude<CodeVerdict, { kind: "ok" | "used" | "spent" | "voided" }>;

/**
 * The line a guessed code writes, for every flow a code is typed in (checkCode's `failed`, the reset's
 * refusal): "code.expired" for an expired code (SPEC's audit list: code … expired), else "code.failed";
 * its result the verdict's kind, its purpose the flow's.
 */
export function codeRefusedLine(guess: Pick<CodeGuess, "kind">, purpose: Flow["kind"]): Pick<AuditEntry, "event" | "detail"> {
  return { event: guess.kind === "expired" ? "code.expired" : "code.failed", detail: { result: guess.kind, purpose } };
}

/**
 * The self-service reset's step 2 (completePasswordReset), its code as one CodeVerdict. `match`: matchCode's
 * answer, null when no code of an open flow was compared (no such flow, another login ID's, or its account
 * barred); a match is used up here (spendCode: "ok", else which request took it first). `finished`: the
 * flow, when it was read already finished — a code typed after that is what explainMissingCode, the rule of
 * every flow, says of the flow's last code, as sign-in's matchCode says it: the used code again or another,
 * else "expired" (it had expired) or "void" (voided: the reset another flow's code made, its tries, a support
 * reset), both guesses, as on an open flow. Before, those two were "no-code", which says none was compared.
 */
export async function typedCodeVerdict(
  deps: Pick<Deps, "db" | "keys">,
  input: { match: CodeMatch | Exclude<VerifyOutcome, { kind: "ok" }> | null; finished: string | null; typed: string | null },
  now: number,
): Promise<CodeVerdict> {
  const { match } = input;
  if (match?.kind === "match") {
    const spent = await spendCode(deps.db, match, now);
    return spent === "consumed" ? { kind: "ok" } : { kind: spent };
  }
  if (match) return match;
  if (input.finished === null) return { kind: "no-code" };
  return explainMissingCode(deps, input.finished, input.typed);
}
