import { createRequire } from "node:module";
import type { FastifyHelmetOptions } from "@fastify/helmet";
import type { FastifyInstance, FastifyReply } from "fastify";

type HelmetMiddleware = (req: unknown, res: HeaderSink, next: (error?: unknown) => void) => void;
interface HeaderSink {
  setHeader(name: string, value: string): void;
  removeHeader(name: string): void;
}

/** A route's own helmet setting, as @fastify/helmet kept it in the route's config: none but "skip". */
const SKIP = Object.freeze({ skipRoute: true } as const);

/**
 * Helmet's headers (CSP, frame, referrer, nosniff, …) on every answer, computed once by the helmet
 * module @fastify/helmet uses (so both give the same headers): FAMOS's configuration depends on
 * nothing in the request. Issue 17: the plugin itself is no longer registered. Even with `global:
 * false` it ran two hooks on every request, one of them async (a promise, and a new `reply.helmet`
 * closure, per request), to offer what FAMOS uses on two kinds of route only; those two features are
 * kept here, the same way:
 *  - `helmet: false` on a route (forward-auth's /auth/nginx), or `config.helmet: { skipRoute: true }`
 *    (the protected sections): that route's answers get none of these headers;
 *  - `reply.helmet()` (the protected sections' onSend, for FAMOS's own answers there) sets them.
 * Any other per-route helmet setting (the plugin merged it into its own headers) is refused at start,
 * so no route can silently lose a header.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: FastifyHelmetOptions): void {
  const { set, removed } = helmetHeaders(options);
  const apply = (res: HeaderSink): void => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
  };
  app.addHook("onRoute", (route) => {
    const own = (route as { helmet?: unknown }).helmet;
    if (own !== undefined && own !== false) throw new Error(`route ${route.url}: only helmet: false is supported (security-headers.ts)`);
    if (own === false) route.config = Object.assign(route.config ?? Object.create(null), { helmet: SKIP });
    const configured = (route.config as { helmet?: { skipRoute?: unknown } } | undefined)?.helmet;
    if (configured !== undefined && !(configured.skipRoute === true && Object.keys(configured).length === 1)) {
      throw new Error(`route ${route.url}: only config.helmet { skipRoute: true } is supported (security-headers.ts)`);
    }
  });
  app.decorateReply("helmet", function helmet(this: FastifyReply, opts?: unknown) {
    if (opts !== undefined) throw new Error("reply.helmet() takes no options (security-headers.ts)");
    apply(this.raw);
  } as unknown as FastifyReply["helmet"]);
  app.addHook("onRequest", (request, reply, done) => {
    if ((request.routeOptions.config as { helmet?: unknown }).helmet === undefined) apply(reply.raw);
    done();
  });
}

/** The headers helmet sets (and removes) for these options, in its order. */
export function helmetHeaders(options: FastifyHelmetOptions): { set: ReadonlyArray<readonly [string, string]>; removed: readonly string[] } {
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const { global: _global, enableCSPNonces: _nonces, ...configuration } = options;
  helmetOfPlugin()(configuration)(
    {},
    { setHeader: (name, value) => void set.push([name, value]), removeHeader: (name) => void removed.push(name) },
    (error) => {
      if (error) throw error;
    },
  );
  return { set: Object.freeze(set), removed: Object.freeze(removed) };
}

/** The helmet module @fastify/helmet itself loads. */
function helmetOfPlugin(): (options: object) => HelmetMiddleware {
  const fromPlugin = createRequire(createRequire(import.meta.url).resolve("@fastify/helmet"));
  return fromPlugin("helmet") as (options: object) => HelmetMiddleware;
}
