import { createHash } from "node:crypto";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FormClient } from "../support/client.ts";
import type { ServerProcess } from "../support/server-process.ts";
import { expectStillServing, signedInBehindRawApplication, type BehindRawApplication } from "./protected-support.ts";

/**
 * What the protected application answers, written byte for byte on a raw socket: undici, the proxy's
 * HTTP client, gives a header the application sent twice as an array, and Node refuses to send some
 * headers that are the connection's own (a Trailer on a body of known length). Each of these used to
 * throw in the proxy's response callback, outside any request's error handling, and end `famos serve`.
 */
const ANSWERS: Record<string, string> = {
  "/app/quotation/two-locations": "HTTP/1.1 302 Found\r\nLocation: /app/quotation/first\r\nLocation: /app/quotation/second\r\nContent-Length: 0\r\n\r\n",
  "/app/quotation/one-location": "HTTP/1.1 302 Found\r\nLocation: /app/quotation/first\r\nContent-Length: 0\r\n\r\n",
  "/app/quotation/trailer": "HTTP/1.1 200 OK\r\nTrailer: x-checksum\r\nKeep-Alive: timeout=5\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
};

/**
 * WebSocket handshakes the application answers on a raw socket: a wrong Sec-WebSocket-Accept, and a
 * right one followed by a frame with a reserved opcode (RFC 6455 §5.2). FAMOS has opened the browser's
 * side already; each must end that side with 1011 and nothing else.
 */
const WEBSOCKET_ANSWERS: Record<string, (key: string) => string | Buffer> = {
  "/app/quotation/live-wrong-accept": () => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n",
  "/app/quotation/live-reserved-opcode": (key) =>
    Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`), Buffer.from([0x83, 0x01, 0x78])]),
};

/** RFC 6455 §4.2.2: the server's proof that it read the handshake. */
function accept(key: string): string {
  return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
}

describe("a real `famos serve` in front of an application that answers oddly", () => {
  let setup: BehindRawApplication;
  let server: ServerProcess;
  let client: FormClient;

  beforeAll(async () => {
    setup = await signedInBehindRawApplication("proxy_odd_answers", (socket) => {
      let head = "";
      socket.on("data", (chunk: Buffer) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        const path = head.split(" ")[1]!;
        const webSocket = WEBSOCKET_ANSWERS[path];
        if (webSocket) socket.write(webSocket(/sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? ""));
        else socket.end(ANSWERS[path] ?? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        head = "";
      });
    });
    ({ server, client } = setup);
  });
  afterAll(async () => {
    await setup?.stop();
  });

  it("relays a redirect with its Location, under FAMOS's path for the section", async () => {
    const answer = await client.get("/quotation/one-location");
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe("/quotation/first");
    await expectStillServing(server);
  });

  it("relays a redirect the application gave two Locations, each under FAMOS's path, and keeps serving", async () => {
    const answer = await client.get("/quotation/two-locations");
    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe("/quotation/first, /quotation/second");
    await expectStillServing(server);
  });

  it("relays an answer that announces trailers, without the connection's own headers, and keeps serving", async () => {
    const answer = await client.get("/quotation/trailer");
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toBe("ok");
    expect(answer.headers.trailer).toBeUndefined();
    // Node sets a Keep-Alive of its own for the browser's connection; the application's is not relayed.
    expect(answer.headers["keep-alive"]).not.toBe("timeout=5");
    await expectStillServing(server);
  });

  for (const path of Object.keys(WEBSOCKET_ANSWERS)) {
    it(`ends the browser's WebSocket with 1011 when the application ${path.endsWith("accept") ? "answers the handshake wrongly" : "sends a frame no WebSocket may carry"}, and keeps serving`, async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}${path.slice("/app".length)}`, { headers: { cookie: client.cookieHeader(), origin: server.url } });
      const code = await new Promise<number>((resolve, reject) => {
        socket.once("close", resolve);
        socket.once("error", reject);
      });
      expect(code).toBe(1011);
      await expectStillServing(server);
    });
  }
});
