import { constants as osConstants } from "node:os";
import type { Server } from "node:http";
import { performance } from "node:perf_hooks";
import { Command } from "commander";
import pino from "pino";
import { batchedStdout } from "../../app/log-destination.ts";
import { terminalJsonText } from "../../platform/terminal-text.ts";
import { createServices, serverKeys } from "../../app/services.ts";
import { ensureDemoUser } from "../../users/demo.ts";
import { migrateDatabase, migrateToLatest } from "../../store/migrate.ts";
import { refreshLoginDigestsAfterStart } from "../../app/login-digest-refresh.ts";
import { tellSealedSecretsAfterStart } from "../../app/sealed-secrets-start.ts";
import { scheduleCleanup } from "../../retention/schedule.ts";
import { startupSmtpCheck } from "../../app/startup-checks.ts";
import { describeUnknown } from "../../config/sources.ts";
import { lowerHashingPriority } from "../../password/hash-priority.ts";
import { drainConnections, markStopping, requestActivity } from "../../web/drain.ts";
import { collectWhenIdle, fullCollection } from "../../web/idle-collection.ts";
import { reachDatabase, Refused, settingsOrExit } from "../io.ts";

/**
 * A second SIGINT or SIGTERM this long after the first is an operator's "stop now". One sooner is the
 * same request delivered twice: a terminal's Ctrl-C reaches `npm start` and this process, and npm
 * relays it again within milliseconds. systemd, Docker and Kubernetes send one SIGTERM, then SIGKILL.
 */
const SAME_SIGNAL_WITHIN_MS = 500;
/** How long a cut-short stop waits for the mail at the SMTP server to be put back in the queue. */
const ABANDON_WITHIN_MS = 2000;

export function serveCommand(): Command {
  return new Command("serve").description("run the web server (migrates the database first)").action(async () => {
    const { config, resolved } = settingsOrExit();
    // One JSON logger for requests and the mail sender. Request lines carry the request id; bodies
    // (passwords, codes) are never logged, and the headers that hold secrets are redacted should a
    // serializer ever include them (ASVS 7.1.1).
    const logger = pino(
      {
        level: config.logLevel,
        redact: { paths: ["req.headers.cookie", "req.headers.authorization", 'res.headers["set-cookie"]'], censor: "[redacted]" },
        // No raw C1 control from a request's text (its Host header) reaches an operator's terminal (CWE-150).
        hooks: { streamWrite: terminalJsonText },
      },
      batchedStdout(),
    );
    // Graceful shutdown: stop taking connections, finish the requests in flight, let the mail sender
    // finish the messages at the SMTP server (the rest go back to the outbox for any instance), then
    // close the database. A shutdown that hangs is cut short before a supervisor's usual 30 s grace
    // ends; so is one an operator signals again (a second Ctrl-C). Either way the mail still at the
    // server goes back to the queue, due now (MailSender.abandon), bounded so the exit stays prompt.
    //
    // Signals are heard from here on, before the start's slow steps (migrations, the port, the hashes'
    // priority): by Node's defaults a SIGHUP ended an instance a supervisor had just started, and a stop
    // asked for while starting ended it with no graceful stop. Such a stop is made once the start is done,
    // without opening the port.
    let stopping: number | null = null;
    let abandonMail = (): Promise<unknown> => Promise.resolve();
    let stopGracefully: (() => Promise<void>) | null = null;
    // The web server once built: a stop says "stopping" to readiness probes at once, even while the
    // start's last steps (after the port opened) delay the drain.
    let served: Server | null = null;
    const exitNow = async (code: number, message: string) => {
      logger.error(message);
      await Promise.race([abandonMail(), new Promise((resolve) => setTimeout(resolve, ABANDON_WITHIN_MS).unref())]);
      process.exit(code);
    };
    const stop = (signal: NodeJS.Signals) => {
      const now = performance.now();
      if (stopping !== null) {
        if (now - stopping >= SAME_SIGNAL_WITHIN_MS) void exitNow(128 + osConstants.signals[signal], `second ${signal}: stopping at once`);
        return;
      }
      stopping = now;
      logger.info({ signal }, "shutting down");
      // From here a second signal is the operator's own, not the first one relayed: say so, as the
      // operator waiting on a slow drain asks when Ctrl-C again helps (and a test waits for this moment).
      setTimeout(() => logger.info("a second SIGINT or SIGTERM now stops at once"), SAME_SIGNAL_WITHIN_MS).unref();
      if (served) markStopping(served);
      setTimeout(() => void exitNow(1, "shutdown took longer than 25 s; exiting"), 25_000).unref();
      void stopGracefully?.();
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    // SIGHUP (a closed terminal, a log rotation's `kill -HUP`) ended the process at once by Node's
    // default: no drain, the mail being sent left leased. Settings are read only at start and logs go
    // to standard output, so there is nothing to reload or reopen: say so and go on serving.
    process.on("SIGHUP", () => logger.warn("SIGHUP ignored: settings are read at start (restart to apply them) and logs go to standard output"));
    // An unknown setting only warns here: in a rolling upgrade the new instances' settings may be set
    // before the old instances stop, and those must keep running.
    for (const setting of resolved.unknown) logger.warn({ setting: setting.name, suggestion: setting.suggestion }, describeUnknown(setting));
    // PostgreSQL is migrated first, on a connection of its own: the server's statements are bounded by
    // FAMOS_DATABASE_TIMEOUT, which a migration's index build on a large table may outlast. SQLite's
    // statements are not cut off (only its wait for another process's write lock is bounded), and its
    // database may live in this process alone (sqlite::memory:): it is migrated on the server's own
    // connection, as before.
    if (!config.databaseUrl.startsWith("sqlite:")) await reachDatabase(config.databaseUrl, () => migrateDatabase(config.databaseUrl, serverKeys(config), { connectionTimeoutMs: config.databaseTimeoutMs }));
    const services = await reachDatabase(config.databaseUrl, () =>
      createServices(config, { startSender: false, logger, backgroundCheckpoints: true, boundStatements: true }),
    );
    const { deps, store } = services;
    if (store.dialect === "sqlite") await reachDatabase(config.databaseUrl, () => migrateToLatest(store, deps.keys));
    abandonMail = () => services.sender.abandon();
    if (!config.production) {
      const demo = await ensureDemoUser(deps);
      const mailbox = new URL("/dev/mailbox", config.publicUrl).toString();
      if (demo) process.stderr.write(`Demo user: login ID "demo", password "${demo.password}"\n`);
      if (!config.smtpUrl) process.stderr.write(`Development mailbox: ${mailbox} (no FAMOS_SMTP_URL: mail is kept here, not sent)\n`);
    }
    // The Redis client is loaded only when configured (it weighs ~20 MB of memory).
    const redis = config.redisUrl ? await (await import("../../app/redis.ts")).openRedis(config.redisUrl, logger) : null;
    // The web application (Fastify and its plugins) is loaded by `serve` only: every other command
    // starts about a second sooner without it, which the many commands a test run or a script makes add up.
    const { buildApp } = await import("../../web/app.ts");
    const app = await buildApp({ deps, store, redis, loggerInstance: logger });
    served = app.server;
    // Delivery status notifications for bounce+…@FAMOS_BOUNCE_DOMAIN (issue 15), when a port is set.
    // Started before the web port opens: a bounce port that cannot be taken stops serve before it
    // answers a health check, instead of leaving an instance that looks ready and loses every bounce.
    const bounces =
      config.bounce.smtpPort === null
        ? null
        : await (await import("../../bounce/listener.ts"))
            .startBounceListener(deps, { host: config.bounce.smtpHost, port: config.bounce.smtpPort })
            .catch((error: NodeJS.ErrnoException) => {
              throw new Refused(
                `FAMOS_BOUNCE_SMTP_PORT: cannot take ${config.bounce.smtpHost}:${config.bounce.smtpPort} for bounces (${error.code ?? error.message}); free that port or set another`,
              );
            });
    // The sender, the port and the jobs of a running server: started only when no stop was asked for
    // during the start (below).
    async function startServing() {
      await app.listen({ host: config.host, port: config.port }).catch(async (error: NodeJS.ErrnoException) => {
        await bounces?.close();
        // A port taken or not allowed, a host that names no address of this machine: the operator's to fix.
        if (typeof error.code !== "string" || !/^(EADDRINUSE|EADDRNOTAVAIL|EACCES|ENOTFOUND|EAI_AGAIN)$/.test(error.code)) throw error;
        throw new Refused(`FAMOS_HOST, FAMOS_PORT: cannot listen on ${config.host}:${config.port} (${error.code}); free that port or set another`);
      });
      // Once the port is open: started before it, an instance whose port was taken had claimed the due
      // mail and exited with it leased (held 60 s, a try used), the other instances unable to send it.
      services.sender.start();
      void startupSmtpCheck(config, deps.metrics, logger);
      // Each account's login ID digest under FAMOS_SECRET's key, made again where it differs (after
      // FAMOS_SECRET changed): beside serving, not before the port opens (login-digest-refresh.ts).
      const redigesting = refreshLoginDigestsAfterStart(deps, logger);
      // Authenticator-app secrets FAMOS_SECRET does not open (a change of it): told, not silent (sealed-secrets-start.ts).
      const sealedLook = tellSealedSecretsAfterStart(deps, logger);
      // Password hashes take only the CPU the event loop does not want (issue 17, hash-priority.ts).
      const hashing = await lowerHashingPriority();
      logger.info(hashing, `password hashing threads lowered to nice ${hashing.niceness}`);
      // The retention job, hourly; one instance at a time on a shared database (issue 11).
      const cleanup = scheduleCleanup(deps);
      // Memory given back once the server goes quiet after a busy spell: one full collection (issue 17).
      const collect = fullCollection();
      const idle = collect ? collectWhenIdle({ activity: requestActivity(app.server), clock: deps.clock, collect }) : null;
      return { redigesting, sealedLook, cleanup, idle };
    }

    // A stop asked for while starting: the port is never opened (a proxy sends nothing to cut short),
    // and nothing a running server does is started. The mail sender was started before the stop was
    // looked at: an instance on its way out claimed and sent the due mail, its stop waiting for them.
    const jobs = stopping === null ? await startServing() : null;

    stopGracefully = async () => {
      try {
        // Every request is served until the proxy stops opening connections; then the listening socket
        // closes, and the connections kept alive are served until each is unused for FAMOS_DRAIN_QUIET
        // (2 s; drain.ts): a request already on its way, on a connection old or new, is answered, not cut.
        await drainConnections(app.server, { quietMs: config.drainQuietMs });
        jobs?.idle?.stop();
        await app.close();
        await jobs?.cleanup.stop();
        await bounces?.close();
        await jobs?.redigesting;
        await jobs?.sealedLook;
        await services.close();
        await redis?.quit().catch(() => redis.disconnect());
        logger.info("stopped");
        process.exit(0);
      } catch (error) {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      }
    };
    // A stop asked for while starting is made now.
    if (stopping !== null) void stopGracefully();
  });
}
