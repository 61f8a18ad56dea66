import { sql } from "kysely";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DATABASE_CONNECTION_TIMEOUT_MS, openStore, type StoreOptions } from "../../src/store/database.ts";
import { isSetupFault } from "../../src/store/setup-fault.ts";
import { withSilentServer } from "../support/silent-server.ts";

/** One turn of the event loop (setImmediate is not faked here): what the driver does at once after a timer is done. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The opener's bound on a PostgreSQL connection that never opens (a hung server, a host that takes the
 * connection and says nothing): the first statement fails as a setup fault once the bound has passed,
 * not before. The driver's timers run on a fake clock; the connection is a real one to a silent server.
 */
describe("openStore's connection bound on PostgreSQL", () => {
  afterEach(() => vi.useRealTimers());

  async function giveUpAt(bound: number, options: StoreOptions): Promise<void> {
    await withSilentServer(async (port) => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
      const store = openStore(`postgres://famos@127.0.0.1:${port}/famos`, options);
      let settled: { error: unknown } | null = null;
      void sql`select 1`.execute(store.db).then(
        () => (settled = { error: new Error("the silent server answered") }),
        (error: unknown) => (settled = { error }),
      );
      // The driver's timer starts with the connection, a few turns after the statement is asked for.
      while (vi.getTimerCount() === 0) await turn();
      await vi.advanceTimersByTimeAsync(bound - 1);
      for (let i = 0; i < 5; i++) await turn();
      expect(settled, "still waiting 1 ms before the bound").toBeNull();
      await vi.advanceTimersByTimeAsync(1);
      for (let i = 0; i < 5 && settled === null; i++) await turn();
      expect(settled, `given up at ${bound} ms`).not.toBeNull();
      const { error } = settled as unknown as { error: unknown };
      expect(error).toMatchObject({ message: "Connection terminated due to connection timeout" });
      expect(isSetupFault(error)).toBe(true);
      vi.useRealTimers();
      await store.close();
    });
  }

  it("gives up at connectionTimeoutMs", () => giveUpAt(100, { connectionTimeoutMs: 100 }));

  it(`gives up at ${DATABASE_CONNECTION_TIMEOUT_MS} ms without it`, () => giveUpAt(DATABASE_CONNECTION_TIMEOUT_MS, {}));

  it("gives up at statementTimeoutMs when the server's statements are bounded", () => giveUpAt(300, { statementTimeoutMs: 300, connectionTimeoutMs: 100 }));
});
