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
  // Set as the reply's own headers, by their lower-case names (Fastify's), not on Node's response: a
  // response with no header of its own takes Fastify's headers as they are in writeHead, where one set
  // with setHeader makes Node keep each in an entry of its own and add Fastify's one by one (issue 17:
  // ~10 KB of garbage per sign-in). The same headers, values and order; a route's own value still wins.
  const headers = set.map(([name, value]) => [name.toLowerCase(), value] as const);
  app.addHook("onRequest", (request, reply, done) => {
    // A route with helmet options of its own (here only "none": skipRoute) is the plugin's to answer.
    if ((request.routeOptions.config as { helmet?: unknown }).helmet === undefined) {
      const res = reply.raw;
      for (const name of removed) res.removeHeader(name);
      for (const [name, value] of headers) reply.header(name, value);
    }
    done();
  });
}

/** The helmet module @fastify/helmet itself loads (so both give the same headers). */
function helmetOfPlugin(): (options: object) => HelmetMiddleware {
  const fromPlugin = createRequire(createRequire(import.meta.url).resolve("@fastify/helmet"));
  return fromPlugin("helmet") as (options: object) => HelmetMiddleware;
}
