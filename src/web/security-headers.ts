import { createRequire } from "node:module";
import fastifyHelmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

type HelmetMiddleware = (req: unknown, res: HeaderSink, next: (error?: unknown) => void) => void;
interface HeaderSink {
  setHeader(name: string, value: string): void;
  removeHeader(name: string): void;
}

/**
 * Helmet's headers (CSP, frame, referrer, nosniff, …) on every answer. @fastify/helmet builds a new
 * helmet middleware, re-validating every directive, on each request (issue 17: a few percent of a
 * sign-in's event loop); FAMOS's configuration depends on nothing in the request, so the headers are
 * computed once, by the same helmet the plugin uses, and set as they are. The plugin stays registered
 * (not global) for what it does per route: `helmet: false` / `skipRoute` routes get none, and
 * `reply.helmet()` (the protected sections' own answers) still applies the same configuration.
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: FastifyHelmetOptions): Promise<void> {
  await app.register(fastifyHelmet, { ...options, global: false } as FastifyHelmetOptions);
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const helmet = helmetOfPlugin();
  helmet(options as object)(
    {},
    { setHeader: (name, value) => void set.push([name, value]), removeHeader: (name) => void removed.push(name) },
    (error) => {
      if (error) throw error;
    },
  );
  app.addHook("onRequest", (request, reply, done) => {
    // A route with helmet options of its own (here only "none": skipRoute) is the plugin's to answer.
    if ((request.routeOptions.config as { helmet?: unknown }).helmet === undefined) {
      const res = reply.raw;
      for (const name of removed) res.removeHeader(name);
      for (const [name, value] of set) res.setHeader(name, value);
    }
    done();
  });
}

/** The helmet module @fastify/helmet itself loads (so both give the same headers). */
function helmetOfPlugin(): (options: object) => HelmetMiddleware {
  const fromPlugin = createRequire(createRequire(import.meta.url).resolve("@fastify/helmet"));
  return fromPlugin("helmet") as (options: object) => HelmetMiddleware;
}
