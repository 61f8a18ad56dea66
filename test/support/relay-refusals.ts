import { afterAll, beforeAll, beforeEach } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { DEFAULT_SENDER_OPTIONS } from "../../src/mail/sender.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { createTestApp, type TestApp } from "./app.ts";
import { loggerWithLines, WARN, type LogLine } from "./log-lines.ts";

/** A test app whose relay refuses FAMOS in some way, with announcements to name@dealer.example and the log's warnings. */
export interface RelayRefusals {
  /** The app (set in beforeAll). */
  readonly t: TestApp;
  /** Queues an announcement to each name@dealer.example. */
  announce(names: string[]): Promise<void>;
  stateOf(name: string): Promise<string | undefined>;
  states(names: string[]): Promise<(string | undefined)[]>;
  /** Log lines at warn or above since this test began. */
  warnings(): LogLine[];
}

/**
 * Called inside a describe: one app for it, and before each test the relay takes mail again (`reset`) and
 * a message it takes ends whatever a test before left (a pause, a refusal remembered); the log starts empty.
 */
export function relayRefusals(reset: (t: TestApp) => void): RelayRefusals {
  let logged: LogLine[] = [];
  let app: TestApp | undefined;
  let warm = 0;
  const harness: RelayRefusals = {
    get t() {
      return app!;
    },
    async announce(names) {
      for (const name of names) {
        await enqueueMail(app!.deps.db, app!.clock.now(), cryptoRandom, app!.deps.mailDomain, { userId: null, kind: "rollout.announce", recipient: `${name}@dealer.example`, subject: name, text: "t", html: "<p>h</p>" });
      }
    },
    stateOf: async (name) => (await app!.deps.db.selectFrom("outbox").select("state").where("recipient", "=", `${name}@dealer.example`).executeTakeFirst())?.state,
    states: (names) => Promise.all(names.map((name) => harness.stateOf(name))),
    warnings: () => logged.filter((r) => r.level >= WARN),
  };
  beforeAll(async () => {
    const { logger, lines } = loggerWithLines();
    logged = lines;
    app = await createTestApp({ logger });
  });
  afterAll(async () => app?.close());
  beforeEach(async () => {
    reset(app!);
    app!.clock.advance(DEFAULT_SENDER_OPTIONS.backoffMs(20));
    await harness.announce([`warm${(warm += 1)}`]);
    await app!.services.sender.drain();
    logged.length = 0;
  });
  return harness;
}
