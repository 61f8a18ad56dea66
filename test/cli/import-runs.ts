import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { TestApp } from "../support/app.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import type { CliWorkspace } from "./run-famos.ts";

/**
 * Real `famos user import` runs on a test app's database, as the import-sync tests make them: `row` a
 * staff member (the name "Name <login>", the address <login>@dealer.example, one bcrypt hash of
 * `password` for all), `file` the rows under the header in the workspace, `run` a command that must
 * exit 0, its standard output. `app` and `cli` are asked at each call (made in a beforeAll).
 */
export function importRuns(app: () => TestApp, cli: () => CliWorkspace) {
  const password = "correct horse battery staple";
  const hash = bcryptHash(password);
  return {
    password,
    row: (login: string, partner: string, role = "user") => `${login},Name ${login},${partner},${role},${login}@dealer.example,${hash}`,
    file(name: string, rows: string[]): string {
      const path = join(cli().dir, name);
      writeFileSync(path, [HEADER, ...rows].join("\n"));
      return path;
    },
    async run(args: string[]): Promise<string> {
      const t = app();
      const result = await cli().inProcess(args, { env: { FAMOS_DATABASE_URL: t.config.databaseUrl, FAMOS_SMTP_URL: t.smtp.url } });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    },
  };
}
