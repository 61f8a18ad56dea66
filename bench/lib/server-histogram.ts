/**
 * A Prometheus histogram of the server's own, read from its /metrics before and after a measured window:
 * what the server itself saw, beside what the driver saw from outside. Issue 17 uses it to split "code
 * request → SMTP acceptance" into the request's own wait (the password hash) and the mail's part
 * (famos_code_to_smtp_seconds: from the code's creation to the SMTP server's acceptance).
 */

/** Cumulative bucket counts by upper bound (seconds), `Infinity` for +Inf. */
export type Buckets = Map<number, number>;

/** The buckets of `name` in a Prometheus text exposition (no labels other than `le`). */
export function parseBuckets(text: string, name: string): Buckets {
  const buckets: Buckets = new Map();
  const line = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)$`, "gm");
  for (const m of text.matchAll(line)) buckets.set(m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
}

/** The bucket counts gained between two readings. */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  return new Map([...after].map(([le, n]) => [le, n - (before.get(le) ?? 0)]));
}

/**
 * The upper bound (ms) of the bucket holding quantile `q`: "p95 ≤ this", as exact as the buckets are.
 * null when the window observed nothing.
 */
export function quantileBoundMs(buckets: Buckets, q: number): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const found = sorted.find(([, n]) => n >= q * total);
  return found ? found[0] * 1000 : null;
}

/**
 * Histogram `name` over a window, from two /metrics readings: how many it observed and the bucket
 * bounds (ms) of its median and p95; null when either reading is missing or it observed nothing.
 */
export function windowQuantiles(before: string | null, after: string | null, name: string): { count: number; p50: number | null; p95: number | null } | null {
  if (before === null || after === null) return null;
  const window = bucketsBetween(parseBuckets(before, name), parseBuckets(after, name));
  const count = window.get(Infinity) ?? 0;
  return count > 0 ? { count, p50: quantileBoundMs(window, 0.5), p95: quantileBoundMs(window, 0.95) } : null;
}

/** The server's /metrics text, or null when it has none (a peer) or refuses. */
export async function readMetrics(origin: string): Promise<string | null> {
  try {
    const res = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/**
 * Mean time per route (ms) over a window, from famos_http_request_duration_seconds' sum and count: on
 * a quiet machine at a paced rate, close to each request's CPU on the event loop (POST /login's includes
 * its wait for the hash).
 */
export function routeMeansMs(before: string, after: string): Array<{ route: string; count: number; meanMs: number }> {
  const read = (text: string) => {
    const sums = new Map<string, { sum: number; count: number }>();
    const line = /^famos_http_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm;
    for (const m of text.matchAll(line)) {
      const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      const key = `${labels.method} ${labels.route}`;
      const entry = sums.get(key) ?? { sum: 0, count: 0 };
      if (m[1] === "sum") entry.sum += Number(m[3]);
      else entry.count += Number(m[3]);
      sums.set(key, entry);
    }
    return sums;
  };
  const b = read(before);
  return [...read(after)]
    .map(([route, a]) => ({ route, count: a.count - (b.get(route)?.count ?? 0), sum: a.sum - (b.get(route)?.sum ?? 0) }))
    .filter((r) => r.count > 0)
    .map((r) => ({ route: r.route, count: r.count, meanMs: (r.sum / r.count) * 1000 }));
}
