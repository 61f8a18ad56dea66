// FAMOS_TRUST_PROXY and the CIDR lists (FAMOS_TRUSTED_NETWORKS, FAMOS_METRICS_ALLOW).
import { isIPv4, isIPv6 } from "node:net";
import { list, type Problems } from "./problems.ts";

/** "203.0.113.7", "203.0.113.0/24", "2001:db8::/32": an address with an optional prefix length that fits it. */
export function isCidr(range: string): boolean {
  const [address, bits, extra] = range.split("/");
  if (extra !== undefined || address === undefined) return false;
  const width = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  if (width === 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= width);
}

export function parseTrustProxy(raw: string, problems: Problems): boolean | number | string[] {
  if (raw === "false" || raw === "off") return false;
  if (raw === "true") return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = list(raw);
  // Fastify hands these to proxy-addr, which throws at start on an address or prefix it cannot read.
  for (const entry of entries) {
    if (!isCidr(entry) && !["loopback", "linklocal", "uniquelocal"].includes(entry)) {
      problems.add("FAMOS_TRUST_PROXY", `"${entry}" is not an address, a CIDR range, true or a hop count`);
    }
  }
  return entries;
}
