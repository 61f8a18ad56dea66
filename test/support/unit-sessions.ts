import { useUnitDeps } from "./unit-app.ts";

/** The unit tier's setup for the rules of sessions (useUnitDeps), with a session's stored row by its id. */
export function useUnitSessions() {
  const unit = useUnitDeps();
  const row = (id: string) => unit.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  return Object.assign(unit, { row });
}
