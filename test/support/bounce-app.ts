import { afterAll, beforeAll } from "vitest";
import { startBounceListener, type BounceListener } from "../../src/bounce/listener.ts";
import { createTestApp, type TestApp } from "./app.ts";

/**
 * A test app on `database` with its bounce listener on a random port, started before the file's tests and
 * closed after them (FAMOS_BOUNCE_DOMAIN bounces.famos.test, with `env`). Read `app.t` and `app.listener` in tests.
 */
export function bounceListenerApp(database: "sqlite" | "postgres", env: Record<string, string> = {}): { readonly t: TestApp; readonly listener: BounceListener } {
  const started: { t?: TestApp; listener?: BounceListener } = {};
  beforeAll(async () => {
    started.t = await createTestApp({ database, env: { FAMOS_BOUNCE_DOMAIN: "bounces.famos.test", ...env } });
    started.listener = await startBounceListener(started.t.deps, { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await started.listener?.close();
    await started.t?.close();
  });
  return {
    get t() {
      return started.t!;
    },
    get listener() {
      return started.listener!;
    },
  };
}
