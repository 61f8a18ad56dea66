import { BlockList, isIPv4, isIPv6 } from "node:net";

const cache = new Map<string, BlockList>();

/** Is the address inside one of the ranges ("127.0.0.1/8", "::1", "10.0.0.5")? */
export function addressAllowed(ip: string, ranges: readonly string[]): boolean {
  const key = ranges.join(",");
  let list = cache.get(key);
  if (!list) {
    list = new BlockList();
    for (const range of ranges) {
      const [address, bits] = range.split("/");
      const type = isIPv6(address!) ? "ipv6" : "ipv4";
      if (!isIPv4(address!) && !isIPv6(address!)) continue;
      if (bits === undefined) list.addAddress(address!, type);
      else list.addSubnet(address!, Number(bits), type);
    }
    cache.set(key, list);
  }
  const mapped = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  return list.check(mapped, isIPv6(mapped) ? "ipv6" : "ipv4");
}
