import { connect, createServer, type Socket } from "node:net";

/** A TCP relay in front of a real server (PostgreSQL, Redis) that can stop passing bytes on. */
export interface FreezableRelay {
  host: string;
  port: number;
  /** From now on nothing passes either way, not even a connection's close; the connections stay open. */
  freeze(): void;
  /**
   * Freezes as a client sends `marker` (a statement's text): that chunk and all after it are held, so
   * the server stops in the middle of the client's work, after what came before.
   */
  freezeWhen(marker: string): void;
  /** The network is back: what was held is delivered, in order, then a close that was not heard. */
  thaw(): void;
  /** Chunks the clients have sent, frozen or not (a count of the commands that tried to reach the server). */
  readonly chunksFromClients: number;
  close(): Promise<void>;
}

/** One client's connection through the relay, with what each side sent while frozen. */
interface Pair {
  client: Socket;
  upstream: Socket;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/** Delivers what was held for `to`; ends it gracefully when its peer went meanwhile (data, then FIN, as TCP does). */
function deliver(held: Buffer[], to: Socket, peerGone: boolean): void {
  if (to.destroyed) return;
  for (const chunk of held.splice(0)) to.write(chunk);
  if (peerGone) to.end();
}

/**
 * What a server that hangs (a long blocking command, a paused VM, a network that drops packets)
 * looks like to its clients: the connection stays open and nothing comes back. As in a network
 * partition, bytes are held rather than lost (TCP resends them once the network is back), and a side
 * that closes its connection meanwhile is not heard by the other until then. Nothing real is paused,
 * so the machine's servers stay up for the other tests.
 */
export async function freezableRelay(targetHost: string, targetPort: number): Promise<FreezableRelay> {
  let frozen = false;
  let marker: Buffer | null = null;
  let chunks = 0;
  const sockets = new Set<Socket>();
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    pairs.add(pair);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => {
        sockets.delete(socket);
        if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
    }
    client.on("data", (chunk: Buffer) => {
      chunks += 1;
      if (marker !== null && chunk.includes(marker)) frozen = true;
      if (frozen) pair.toUpstream.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (frozen) pair.toClient.push(chunk);
      else client.write(chunk);
    });
    client.on("close", () => frozen || upstream.end());
    upstream.on("close", () => frozen || client.end());
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
      for (const pair of pairs) {
        deliver(pair.toUpstream, pair.upstream, pair.client.destroyed);
        deliver(pair.toClient, pair.client, pair.upstream.destroyed);
      }
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
