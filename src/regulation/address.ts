import { isIPv4, isIPv6 } from "node:net";

/**
 * The client address as throttles count it. IPv4 (and IPv4-mapped IPv6, and NAT64's 64:ff9b::/96) as
 * the IPv4 address; IPv6 by its /64 prefix, because one subscriber is normally given a whole /64 and
 * could otherwise step through 2^64 addresses to escape a per-address counter (RFC 6177; @fastify/rate-limit does the same).
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const bare = ip.split("%")[0]!;
  if (!isIPv6(bare)) return ip.slice(0, 64);
  const groups = expandIPv6(bare);
  // RFC 4291 §2.5.5.2: ::ffff:0:0/96 is IPv4 in any spelling (hex groups, zeros written out), not the
  // /64 every such address shares, which would give all IPv4 clients spelt so one count.
  if (groups.slice(0, 5).every((group) => group === "0") && groups[5] === "ffff") return ipv4Of(groups[6]!, groups[7]!);
  // RFC 6052 §2.1: the NAT64 well-known prefix 64:ff9b::/96 carries the IPv4 client's own address, put
  // there by the gateway (an IPv6-only FAMOS reached by IPv4 clients): counted as that IPv4 address, not
  // the /64 all the gateway's clients share. IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated,
  // made by no gateway) stays in ::/64: taken as IPv4, whoever could send it would count against another's.
  if (groups[0] === "64" && groups[1] === "ff9b" && groups.slice(2, 6).every((group) => group === "0")) return ipv4Of(groups[6]!, groups[7]!);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The IPv4 address in the last two groups of an IPv4-mapped IPv6 address. */
function ipv4Of(high: string, low: string): string {
  const a = parseInt(high, 16);
  const b = parseInt(low, 16);
  return [a >> 8, a & 0xff, b >> 8, b & 0xff].join(".");
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

/**
 * An address key as people read it: an IPv6 /64 in RFC 5952's form (§4.2: the longest run of two or
 * more zero groups becomes "::", the first of equal runs; §4.1: no leading zeros), so `::1` is shown
 * as `::/64`, not `0:0:0:0::/64`. Display only: the key stored and counted stays as addressKey made it.
 */
export function shownAddress(key: string): string {
  const prefix = /^([0-9a-f]{1,4}(?::[0-9a-f]{1,4}){3})::\/64$/.exec(key);
  if (!prefix) return key;
  const groups = [...prefix[1]!.split(":"), "0", "0", "0", "0"];
  let best = { start: -1, length: 1 };
  for (let i = 0; i < groups.length; i += 1) {
    let length = 0;
    while (groups[i + length] === "0") length += 1;
    if (length > best.length) best = { start: i, length };
  }
  const left = groups.slice(0, best.start).join(":");
  const right = groups.slice(best.start + best.length).join(":");
  return `${left}::${right}/64`;
}
