import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LightMyRequestResponse } from "fastify";
import { createProtectedApp } from "../../examples/protected-app/app.ts";
import type { TestApp } from "../support/app.ts";
import { signIn, type FormClient } from "../support/client.ts";

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
  return (await signIn(t, { user, client, from: loginPath, page: null })).answer;
}
