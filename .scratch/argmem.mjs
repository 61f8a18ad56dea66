import { hash, verify } from "@node-rs/argon2";
const h = await hash("pw", { memoryCost: 19456, timeCost: 2, parallelism: 1 });
for (let i = 0; i < 150; i++) await Promise.all([verify(h, "pw"), verify(h, "pw")]);
const m = process.memoryUsage();
console.log(process.version, "rss", (m.rss / 2 ** 20).toFixed(1), "heapTotal", (m.heapTotal / 2 ** 20).toFixed(1), "external", (m.external / 2 ** 20).toFixed(1));
