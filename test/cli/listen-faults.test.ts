import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/** famos serve on an address it cannot listen on says which, in one line, and exits 1: no stack trace. */
describe("famos serve where it cannot listen", () => {
  let cli: CliWorkspace;
  let taken: Server;
  let port = 0;
  beforeAll(async () => {
    cli = cliWorkspace();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    cli?.remove();
    await new Promise((resolve) => taken?.close(resolve));
  });

  const cases = [
    { what: "a port another program holds", env: () => ({ FAMOS_HOST: "127.0.0.1", FAMOS_PORT: String(port) }), code: "EADDRINUSE" },
    { what: "a host name that resolves to nothing", env: () => ({ FAMOS_HOST: "no-such-host.invalid", FAMOS_PORT: "0" }), code: "ENOTFOUND" },
    { what: "an address not of this machine", env: () => ({ FAMOS_HOST: "192.0.2.1", FAMOS_PORT: "0" }), code: "EADDRNOTAVAIL" },
  ];
  for (const { what, env, code } of cases) {
    it(`${what}: names FAMOS_HOST and FAMOS_PORT and ${code}, and exits 1`, async () => {
      const settings = env();
      const result = await cli.run(["serve"], { env: settings });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`famos: FAMOS_HOST, FAMOS_PORT: cannot listen on ${settings.FAMOS_HOST}:${settings.FAMOS_PORT} (${code}); free that port or set another`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    });
  }
});
