import { createServer, type Socket } from "node:net";

/** A server that takes connections and never answers (a hung Redis or PostgreSQL): `use` gets its port. */
export async function withSilentServer(use: (port: number) => Promise<void>): Promise<void> {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    await use((silent.address() as { port: number }).port);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
}
