import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LightMyRequestResponse } from "fastify";
import { createProtectedApp } from "../../examples/protected-app/app.ts";
import type { TestApp } from "../support/app.ts";
import { FormClient, nextCode } from "../support/client.ts";

/** The example application listening on a free loopback port. */
export async function startExampleApp(): Promise<{ server: Server; url: string; port: number; stop(): Promise<void> }> {
  const server = createProtectedApp();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The hidden returnTo of a sign-in page, unescaped, or null. */
export function hiddenReturnTo(body: string): string | null {
  const match = /name="returnTo" value="([^"]*)"/.exec(body);
  return match ? match[1]!.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!) : null;
}

/**
 * Signs in from a sign-in page address (e.g. "/login?returnTo=%2Fquotation") as a browser would:
 * the page's hidden returnTo goes with the password, then the mailed code. Returns the code step's
 * answer (303 to where the user goes next).
 */
export async function signInFrom(
  t: TestApp,
  client: FormClient,
  loginPath: string,
  user: { login_id: string; password: string; otp_email: string | null },
): Promise<LightMyRequestResponse> {
  const before = t.smtp.messages.length;
  const login = await client.get(loginPath);
  const returnTo = hiddenReturnTo(login.body);
  const password = await client.post("/login", { loginId: user.login_id, password: user.password, ...(returnTo ? { returnTo } : {}) });
  if (password.statusCode !== 303 || password.headers.location !== "/otp") throw new Error(`password step: ${password.statusCode}`);
  const code = await nextCode(t.smtp, user.otp_email!, before);
  await client.get("/otp");
  return client.post("/otp", { code });
}
