/**
 * The peer's HTTP server: better-auth's documented Node integration (`toNodeHandler`) on node:http, all
 * routes under /api/auth. Configured from the environment:
 *   PEER_DB, PEER_PORT, PEER_SMTP_PORT, PEER_SECRET
 */
import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { createPeerAuth } from "./auth.ts";

const port = Number(process.env.PEER_PORT);
const { auth, db, mailer } = createPeerAuth({
  dbPath: process.env.PEER_DB ?? "",
  baseURL: `http://127.0.0.1:${port}`,
  secret: process.env.PEER_SECRET ?? "",
  smtpPort: Number(process.env.PEER_SMTP_PORT),
});
const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  mailer.close();
  db.close();
  process.exit(0);
});
