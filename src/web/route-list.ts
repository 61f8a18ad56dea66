import type { FastifyContextConfig, FastifyInstance, HTTPMethods } from "fastify";

export interface RouteEntry {
  method: string;
  url: string;
  config: FastifyContextConfig;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route as registered, child plugins included: the attack tests walk it. */
    famosRoutes: readonly RouteEntry[];
  }
}

/** Records each route as it is added; call before any route or plugin is registered. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  app.decorate("famosRoutes", routes);
  app.addHook("onRoute", (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
    for (const method of methods) routes.push({ method, url: route.url, config: (route.config ?? {}) as FastifyContextConfig });
  });
}
