import { afterAll, beforeAll } from "vitest";
import { createTestApp, listen, type TestApp } from "./app.ts";
import { FormClient, overHttp, signIn } from "./client.ts";

export interface AppOverHttp {
  /** The describe block's app (set in its beforeAll). */
  readonly t: TestApp;
  /** An administrator signed in through a browser over real HTTP, on a page of `path` (its CSRF token read). */
  admin(path: string): Promise<FormClient>;
}

/** One test app for the describe block it is called in, listening on a random port, closed after. */
export function appOverHttp(): AppOverHttp {
  let t: TestApp | undefined;
  let base = "";
  beforeAll(async () => {
    t = await createTestApp();
    base = await listen(t);
  });
  afterAll(async () => t?.close());
  return {
    get t() {
      if (!t) throw new Error("appOverHttp: the app is made in beforeAll");
      return t;
    },
    async admin(path) {
      const { client } = await signIn(this.t, { role: "admin", client: new FormClient(overHttp(base)) });
      await client.get(path);
      return client;
    },
  };
}
