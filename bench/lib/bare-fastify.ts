/**
 * The ceiling for "one HTTP round trip through Fastify": a bare Fastify 5 route, no plugins, no logger.
 * Run as a child process by measure.ts: `node --import tsx bench/lib/bare-fastify.ts <port>`.
 */
import Fastify from "fastify";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));
await app.listen({ port, host: "127.0.0.1" });
process.on("SIGTERM", () => {
  void app.close().then(() => process.exit(0));
});
