import { Command } from "commander";
import { createServices } from "../../app/services.ts";
import { ensureDemoUser } from "../../users/demo.ts";
import { migrateToLatest } from "../../store/migrate.ts";
import { buildApp } from "../../web/app.ts";
import { configOrExit } from "../io.ts";

export function serveCommand(): Command {
  return new Command("serve").description("run the web server (migrates the database first)").action(async () => {
    const config = configOrExit();
    const services = createServices(config, { startSender: false });
    const { deps, store } = services;
    await migrateToLatest(store);
    services.sender.start();
    if (!config.production) {
      const demo = await ensureDemoUser(deps);
      const mailbox = new URL("/dev/mailbox", config.publicUrl).toString();
      if (demo) process.stderr.write(`Demo user: login ID "demo", password "${demo.password}"\n`);
      if (!config.smtpUrl) process.stderr.write(`Development mailbox: ${mailbox} (no FAMOS_SMTP_URL: mail is kept here, not sent)\n`);
    }
    const redis = config.redisUrl ? new (await import("ioredis")).Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : null;
    const app = await buildApp({
      deps,
      store,
      redis,
      logger: { level: process.env.FAMOS_LOG_LEVEL ?? "info", redact: ["req.headers.cookie", "req.headers.authorization"] },
    });
    await app.listen({ host: config.host, port: config.port });

    // Graceful shutdown: stop taking requests, finish those in flight, let the mail sender finish
    // the messages it holds (the outbox keeps the rest), then close the database.
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, "shutting down");
      await app.close();
      await services.close();
      redis?.disconnect();
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  });
}
