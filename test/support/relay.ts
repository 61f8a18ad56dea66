import { connect, createServer, type Socket } from "node:net";

/** A TCP relay in front of a real server (PostgreSQL, Redis) that can stop passing bytes on. */
export interface FreezableRelay {
  host: string;
  port: number;
  /** From now on nothing passes either way; the connections stay open. */
  freeze(): void;
  close(): Promise<void>;
}

/**
 * What a server that hangs (a long blocking command, a paused VM, a network that drops packets)
 * looks like to its clients: the connection stays open and nothing comes back. Nothing real is
 * paused, so the machine's servers stay up for the other tests.
 */
export async function freezableRelay(targetHost: string, targetPort: number): Promise<FreezableRelay> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.on("data", (chunk) => frozen || upstream.write(chunk));
    upstream.on("data", (chunk) => frozen || client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: "127.0.0.1",
    port: (server.address() as { port: number }).port,
    freeze: () => (frozen = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
