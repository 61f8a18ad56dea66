import { connect, createServer, type Socket } from "node:net";

/** A TCP relay in front of a real server (PostgreSQL, Redis) that can stop passing bytes on. */
export interface FreezableRelay {
  host: string;
  port: number;
  /** From now on nothing passes either way, not even a connection's close; the connections stay open. */
  freeze(): void;
  /**
   * Freezes as a client sends `marker` (a statement's text): that chunk and all after it are lost, so
   * the server stops in the middle of the client's work, after what came before.
   */
  freezeWhen(marker: string): void;
  /** Passes bytes again (what was sent while frozen is lost: connections that were cut stay broken). */
  thaw(): void;
  /** Chunks the clients have sent, frozen or not (a count of the commands that tried to reach the server). */
  readonly chunksFromClients: number;
  close(): Promise<void>;
}

/**
 * What a server that hangs (a long blocking command, a paused VM, a network that drops packets)
 * looks like to its clients: the connection stays open and nothing comes back. As in a network
 * partition, a side that closes its connection meanwhile is not heard by the other. Nothing real is
 * paused, so the machine's servers stay up for the other tests.
 */
export async function freezableRelay(targetHost: string, targetPort: number): Promise<FreezableRelay> {
  let frozen = false;
  let marker: Buffer | null = null;
  let chunks = 0;
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => {
      chunks += 1;
      if (marker !== null && chunk.includes(marker)) frozen = true;
      if (!frozen) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => frozen || client.write(chunk));
    client.on("close", () => frozen || upstream.destroy());
    upstream.on("close", () => frozen || client.destroy());
    upstream.on("close", () => client.destroyed && pairs.delete(pair));
    client.on("close", () => upstream.destroyed && pairs.delete(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: "127.0.0.1",
    port: (server.address() as { port: number }).port,
    freeze: () => (frozen = true),
    freezeWhen: (text) => (marker = Buffer.from(text)),
    thaw: () => {
      frozen = false;
      marker = null;
      // The network is back: a close that was not heard while frozen is heard now.
      for (const pair of pairs) if (pair.some((socket) => socket.destroyed)) for (const socket of pair) socket.destroy();
    },
    get chunksFromClients() {
      return chunks;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
