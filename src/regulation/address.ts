import { isIPv4, isIPv6 } from "node:net";

/**
 * The client address as throttles count it. IPv4 (and IPv4-mapped IPv6) as is; IPv6 by its /64
 * prefix, because one subscriber is normally given a whole /64 and could otherwise step through
 * 2^64 addresses to escape a per-address counter (RFC 6177; @fastify/rate-limit does the same).
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const bare = ip.split("%")[0]!;
  if (!isIPv6(bare)) return ip.slice(0, 64);
  const groups = expandIPv6(bare);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case without leading zeros. */
function expandIPv6(ip: string): string[] {
  const parse = (part: string): string[] => {
    if (part === "") return [];
    const out: string[] = [];
    for (const group of part.split(":")) {
      if (group.includes(".")) {
        // An embedded IPv4 address fills the last two groups.
        const [a, b, c, d] = group.split(".").map(Number) as [number, number, number, number];
        out.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
      } else {
        out.push(parseInt(group, 16).toString(16));
      }
    }
    return out;
  };
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...Array<string>(8 - first.length - last.length).fill("0"), ...last];
}
