import pino from "pino";
import type { Deps } from "../../src/app/deps.ts";
import { createServices } from "../../src/app/services.ts";
import { loadConfig } from "../../src/config/config.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { testDatabase, type TestDatabase } from "../store/dialects.ts";
import { TEST_SECRET } from "./app.ts";
import { productionEnv, startServer, type ServerProcess } from "./server-process.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp.ts";

/** A real `famos serve` process over a SQLite file of its own and an SMTP server in this process, and the test's own store on that file. */
export interface ServedFamos {
  smtp: TestSmtpServer;
  database: TestDatabase;
  server: ServerProcess;
  store: Store;
}

/**
 * Starts one (productionEnv, `env` on top); what was started before a step failed is stopped again.
 * Stop it with stopServedFamos.
 */
export async function startServedFamos(prefix: string, env: Record<string, string> = {}): Promise<ServedFamos> {
  const started: Partial<ServedFamos> = {};
  try {
    started.smtp = await startSmtpServer();
    started.database = await testDatabase("sqlite", prefix);
    started.server = await startServer(productionEnv({ FAMOS_DATABASE_URL: started.database.url, FAMOS_SMTP_URL: started.smtp.url, ...env }));
    started.store = openStore(started.database.url);
    return started as ServedFamos;
  } catch (error) {
    await stopServedFamos(started);
    throw error;
  }
}

/** Kills the process, closes the store, stops the SMTP server and drops the database (whichever were started). */
export async function stopServedFamos(served: Partial<ServedFamos> | undefined): Promise<void> {
  await served?.server?.stop("SIGKILL");
  await served?.store?.close();
  await served?.smtp?.stop();
  await served?.database?.drop();
}

/** Deps on the served database, for adding users from the test (no sender started). */
export function depsOn(served: Pick<ServedFamos, "store" | "database">): Deps {
  const loaded = loadConfig({ FAMOS_SECRET: TEST_SECRET, FAMOS_DATABASE_URL: served.database.url });
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return createServices(loaded.config, { store: served.store, logger: pino({ level: "silent" }), startSender: false }).deps;
}
