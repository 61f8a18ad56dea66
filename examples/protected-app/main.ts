/**
 * Runs the example protected application: `npx tsx examples/protected-app/main.ts`
 * (PORT, default 4000; HOST, default 127.0.0.1 — keep it off public addresses: it trusts the
 * X-Famos-* headers, so only the proxy in front of it may reach it).
 */
import { createProtectedApp } from "./app.ts";

const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? "127.0.0.1";
const server = createProtectedApp();
server.listen(port, host, () => {
  process.stderr.write(`Example protected application on http://${host}:${port}/ (reach it through FAMOS)\n`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => server.close(() => process.exit(0)));
