import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, type WebSocketServer } from "ws";
import { addUser, createTestApp, listen, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { until, within } from "../support/until.ts";
import { answeredLiveChannel, startExampleApp, stopWithLiveChannel } from "./protected-support.ts";

/**
 * A session ended after its WebSocket's handshake passed FAMOS's session check and before the
 * application accepted it (a page's socket still connecting when the user signs out on a shared PC).
 * The reads that close sockets of ended sessions cover only sockets already open, so such a socket
 * was open until the next 30 s recheck; it must be closed as soon as the application accepts it.
 */

/** Longer than any test here: no recheck of the timer's comes in the way. */
const NO_TIMER = 3_600_000;
/** A close that happens at once arrives well within this. */
const PROMPTLY_MS = 5_000;

interface Closed {
  code: number;
  reason: string;
}

/** A browser's WebSocket through FAMOS whose handshake the application holds until `accept`. */
interface HeldChannel {
  browser: WebSocket;
  browserClosed: Promise<Closed>;
  /** The application accepts the handshake it holds. */
  accept(): void;
  /** How the application's side closed, once it has opened and closed. */
  applicationClosed(): Promise<Closed>;
  /** A message through the application and back. */
  echo(text: string): Promise<string>;
}

describe.each(["sqlite", "postgres"] as const)("a proxied WebSocket whose session ends while the application has not yet accepted it (%s)", (database) => {
  let t: TestApp;
  /** FAMOS's address for WebSockets (ws://127.0.0.1:port). */
  let base: string;
  let upstream: Awaited<ReturnType<typeof startExampleApp>>;
  let live: WebSocketServer;
  const held = new Map<string, (answer: true | number) => void>();
  const applicationClosed = new Map<string, Promise<Closed>>();
  let tags = 0;

  beforeAll(async () => {
    upstream = await startExampleApp();
    live = answeredLiveChannel(upstream.server, (query, answer) => held.set(query.get("tag") ?? "", answer));
    live.on("connection", (socket, request) => {
      const tag = new URL(request.url ?? "/", "http://app").searchParams.get("tag") ?? "";
      applicationClosed.set(tag, new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: String(reason) }))));
      socket.on("message", (data) => socket.send(`echo:${String(data)}`));
    });
    t = await createTestApp({ database, env: { FAMOS_UPSTREAM_URL: upstream.url }, webSocketRecheckMs: NO_TIMER });
    base = (await listen(t)).replace(/^http:/, "ws:");
  });
  afterAll(() => stopWithLiveChannel({ live, t, upstream }));

  async function signedIn() {
    const user = await addUser(t.deps);
    const client = new FormClient(t.app);
    await signInFully(client, t.smtp, user);
    return { user, client };
  }

  /** Opens the live channel as the client's browser would; FAMOS takes it, the application holds it. */
  async function openHeld(client: FormClient): Promise<HeldChannel> {
    const tag = `h${(tags += 1)}`;
    const browser = new WebSocket(`${base}/quotation/live?tag=${tag}`, { headers: { cookie: client.cookieHeader(), origin: base.replace(/^ws:/, "http:") } });
    const browserClosed = new Promise<Closed>((resolve) => browser.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
    const messages: string[] = [];
    browser.on("message", (data) => messages.push(String(data)));
    await within(new Promise((resolve, reject) => (browser.once("open", resolve), browser.once("error", reject))), "FAMOS's answer to the handshake", PROMPTLY_MS);
    const answer = await until(`the handshake ${tag} at the application`, () => held.get(tag));
    return {
      browser,
      browserClosed,
      accept: () => answer(true),
      async applicationClosed() {
        await until(`the application's side of ${tag} open`, () => applicationClosed.has(tag));
        return within(applicationClosed.get(tag)!, `the application's side of ${tag} closed`, PROMPTLY_MS);
      },
      async echo(text) {
        const before = messages.length;
        browser.send(text);
        return until(`the echo of ${text}`, () => messages[before], PROMPTLY_MS);
      },
    };
  }

  async function expectEndedOnAccept(channel: HeldChannel): Promise<void> {
    channel.accept();
    const [application, browser] = await Promise.all([channel.applicationClosed(), within(channel.browserClosed, "the browser's side closed", PROMPTLY_MS)]);
    expect(browser).toEqual({ code: 4401, reason: "session ended" });
    expect(application).toEqual({ code: 4401, reason: "session ended" });
  }

  // First: no channel is open yet, so no read after the sign-in's posts comes in its way.
  it("a session ended elsewhere (another instance, a command) during the handshake is closed when the application accepts", async () => {
    const { user, client } = await signedIn();
    const channel = await openHeld(client);
    await t.deps.db.updateTable("sessions").set({ ended_at: t.clock.now(), end_reason: "disabled" }).where("user_id", "=", user.id).execute();
    await expectEndedOnAccept(channel);
  });

  it("sign-out while the handshake waits at the application: both sides are closed with 4401 when it accepts", async () => {
    const { client } = await signedIn();
    const channel = await openHeld(client);
    expect((await client.post("/logout")).statusCode).toBe(303);
    await expectEndedOnAccept(channel);
    await until("nothing left open or counted", () => t.app.proxiedWebSockets.size === 0 && t.app.proxiedWebSockets.handshaking === 0);
  });

  it("the read after the sign-out ran while the socket was not yet open (another user's was): it is still closed when the application accepts; the other stays", async () => {
    const sockets = t.app.proxiedWebSockets;
    const other = await signedIn();
    const theirs = await openHeld(other.client);
    theirs.accept();
    await until("the other user's channel open", () => sockets.size > 0);
    const { client } = await signedIn();
    const mine = await openHeld(client);
    const reads = sockets.reads;
    expect((await client.post("/logout")).statusCode).toBe(303);
    await until("the read after the sign-out", () => sockets.reads > reads);
    await expectEndedOnAccept(mine);
    expect(await theirs.echo("still here")).toBe("echo:still here");
    theirs.browser.close();
  });

  it("a session still live when the application accepts keeps its WebSocket", async () => {
    const sockets = t.app.proxiedWebSockets;
    const { client } = await signedIn();
    const channel = await openHeld(client);
    const open = sockets.size;
    channel.accept();
    await until("the channel open", () => sockets.size === open + 1);
    expect(await channel.echo("hello")).toBe("echo:hello");
    expect(await channel.echo("still here")).toBe("echo:still here");
    expect(sockets.size).toBe(open + 1);
    channel.browser.close();
  });
});
