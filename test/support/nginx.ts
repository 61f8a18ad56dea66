import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NGINX_PATH = "/usr/sbin/nginx";
const SETPRIV_PATH = "/usr/bin/setpriv";

export interface NginxOptions {
  /** Directives placed inside `http { }`: server blocks, upstreams, maps… */
  httpConfig: string;
  /**
   * The port to wait for before returning. Default: the first `listen <port>` / `listen 127.0.0.1:<port>`
   * in httpConfig; when there is none, startNginx waits for the pid file only.
   */
  port?: number;
  /** How long nginx may take to accept connections (default 10 s). */
  timeoutMs?: number;
}

export interface RunningNginx {
  port?: number;
  /** The prefix directory holding nginx.conf, error.log and the temp directories. */
  dir: string;
  /** The contents of error.log so far (for assertion messages). */
  errorLog(): string;
  /**
   * Writes nginx.conf anew with `httpConfig` and sends the master SIGHUP, as `nginx -s reload` does:
   * returns at once, as that does (new workers start, the old ones finish their requests and exit).
   */
  reload(httpConfig: string): void;
  /** Stops nginx (fast shutdown) and removes the prefix directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (listen on 0, read the port, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function listenPort(httpConfig: string): number | undefined {
  const match = /\blisten\s+(?:(?:127\.0\.0\.1|localhost|\*|0\.0\.0\.0):)?(\d+)\b/.exec(httpConfig);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Runs a private nginx (in the foreground, as a child of this process) with `httpConfig` inside its
 * http block; everything it writes stays in a temporary prefix directory. Throws loudly when nginx is
 * not installed or does not come up.
 */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  if (!existsSync(NGINX_PATH)) {
    throw new Error(`nginx is not installed at ${NGINX_PATH} (apt-get install -y --no-install-recommends nginx, or run .ci/run)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "famos-nginx-"));
  const errorLogPath = join(dir, "error.log");
  const pidPath = join(dir, "nginx.pid");
  const mimeTypes = existsSync("/etc/nginx/mime.types") ? "include /etc/nginx/mime.types;" : "";
  // As root nginx would hand the workers to "nobody", who cannot use the private temp directories.
  const user = process.getuid?.() === 0 ? "user root root;" : "";
  const configFor = (httpConfig: string) => `${user}
daemon off;
master_process on;
worker_processes 1;
pid ${pidPath};
error_log ${errorLogPath} warn;
events {
  worker_connections 256;
}
http {
  ${mimeTypes}
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};

${httpConfig}
}
`;
  const config = configFor(options.httpConfig);
  writeFileSync(join(dir, "nginx.conf"), config);

  // -e: the compiled-in error log (/var/log/nginx) is opened before nginx.conf is read.
  const nginxArgs = [NGINX_PATH, "-p", dir, "-c", "nginx.conf", "-e", errorLogPath];
  // vitest ends a test file's worker process without running its exit handlers, so a test that never
  // called stop() would leave nginx running. setpriv (util-linux) execs nginx with a parent-death
  // signal: nginx gets SIGTERM (a fast shutdown, workers included) when this process goes away.
  const command = existsSync(SETPRIV_PATH) ? [SETPRIV_PATH, "--pdeathsig", "TERM", "--", ...nginxArgs] : nginxArgs;
  const child: ChildProcess = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (stderr += chunk));
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
    child.once("error", (error) => {
      exited = error.message;
      resolve();
    });
  });
  // And on an orderly exit without stop(), too.
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);

  const errorLog = () => {
    try {
      return readFileSync(errorLogPath, "utf8");
    } catch {
      return "";
    }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    if (exited === undefined) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const port = options.port ?? listenPort(options.httpConfig);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (exited !== undefined) {
      const log = `${stderr}${errorLog()}`.trim();
      await stop();
      throw new Error(`nginx exited during start-up (${exited}):\n${log}\n--- nginx.conf ---\n${config}`);
    }
    const ready = port === undefined ? existsSync(pidPath) : await accepts(port);
    if (ready) break;
    if (Date.now() > deadline) {
      const log = `${stderr}${errorLog()}`.trim();
      await stop();
      throw new Error(`nginx did not accept connections on port ${port ?? "(pid file)"} within ${options.timeoutMs ?? 10_000} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const reload = (httpConfig: string) => {
    writeFileSync(join(dir, "nginx.conf"), configFor(httpConfig));
    child.kill("SIGHUP");
  };
  return port === undefined ? { dir, errorLog, reload, stop } : { port, dir, errorLog, reload, stop };
}
