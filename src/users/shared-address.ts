import { sql, type Kysely } from "kysely";
import type { Deps } from "../app/deps.ts";
import { preparedQuery } from "../store/prepared.ts";
import type { Database } from "../store/schema.ts";

/**
 * The one rule of a shared mailbox (issue 15), for enrolment's and Profile's review
 * (FAMOS_SHARED_MAILBOX_POLICY), OTP capture's "Several login IDs get their codes at this address", the
 * console's Needs attention and an enable: an address is shared once it is the OTP email of more than
 * one ENABLED login ID, compared without regard to case. A disabled account (a leaver) signs in no more
 * and is sent no codes, so the successor who takes over its mailbox is warned of nothing; enabling the
 * leaver again makes the address shared, and the enable says so (enableUser).
 */
export const enabledHolders = (deps: Pick<Deps, "db">) => deps.db.selectFrom("users").where("otp_email", "is not", null).where("disabled_at", "is", null);

/**
 * How many enabled login IDs other than `userId` have this address as their OTP email. Compiled once
 * (preparedQuery): OTP capture asks it on every page and status poll (issue 17).
 */
export async function otherEnabledHolders(deps: Pick<Deps, "db">, email: string, userId: string): Promise<number> {
  const [row] = await countOtherHolders(deps.db, email.toLowerCase(), userId);
  return Number(row!.n);
}

/**
 * The count of otherEnabledHolders as a query of its own, for a statement that asks it beside another
 * read (bounce/addresses.ts, addressProblemsAndHolders: OTP capture's two reads of its address as one).
 */
export const otherHoldersQuery = (db: Kysely<Database>, lowerEmail: string, userId: string) =>
  enabledHolders({ db })
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where(sql<string>`lower(otp_email)`, "=", lowerEmail)
    .where("id", "!=", userId);

const countOtherHolders = preparedQuery(otherHoldersQuery);

/**
 * The address is the OTP email of an enabled login ID other than `userId`: its mailbox holds codes
 * for several login IDs, alike but for the login ID each names (OTP capture says which is hers).
 */
export async function sharedWithOthers(deps: Pick<Deps, "db">, email: string, userId: string): Promise<boolean> {
  return (await otherEnabledHolders(deps, email, userId)) > 0;
}
