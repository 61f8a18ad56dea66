/** The bench's users: deterministic, so a seed step and the driver agree without passing files around. */
import { BENCH_PASSWORD } from "./measure.ts";
import type { BenchUser } from "./types.ts";

/**
 * `n` users `<prefix>001`… with the email `<login>@bench.test`. Login IDs never hold six digits in a
 * row, so a login ID quoted in a mail cannot be mistaken for the code.
 */
export function makeUsers(prefix: string, n: number, loginIsEmail = false): BenchUser[] {
  const width = Math.max(3, String(n).length);
  if (width >= 6) throw new Error("at most 99,999 bench users");
  return Array.from({ length: n }, (_, i) => {
    const login = `${prefix}${String(i + 1).padStart(width, "0")}`;
    const email = `${login}@bench.test`;
    return { login: loginIsEmail ? email : login, email, password: BENCH_PASSWORD };
  });
}
