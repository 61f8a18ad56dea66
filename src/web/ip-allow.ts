import { BlockList, isIPv4, isIPv6 } from "node:net";

interface Ranges {
  list: BlockList;
  /** Answers given, by address: a BlockList check builds a SocketAddress each time (issue 17). */
  answers: Map<string, boolean>;
}

const cache = new Map<string, Ranges>();
/** Bounded: the addresses of the last while, not every address ever seen. */
const ANSWERS_KEPT = 10_000;

/** Is the address inside one of the ranges ("127.0.0.1/8", "::1", "10.0.0.5")? */
export function addressAllowed(ip: string, ranges: readonly string[]): boolean {
  const key = ranges.join(",");
  let entry = cache.get(key);
  if (!entry) {
    const list = new BlockList();
    for (const range of ranges) {
      const [address, bits] = range.split("/");
      const type = isIPv6(address!) ? "ipv6" : "ipv4";
      if (!isIPv4(address!) && !isIPv6(address!)) continue;
      if (bits === undefined) list.addAddress(address!, type);
      else list.addSubnet(address!, Number(bits), type);
    }
    entry = { list, answers: new Map() };
    cache.set(key, entry);
  }
  let allowed = entry.answers.get(ip);
  if (allowed === undefined) {
    const mapped = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    allowed = entry.list.check(mapped, isIPv6(mapped) ? "ipv6" : "ipv4");
    if (entry.answers.size >= ANSWERS_KEPT) entry.answers.clear();
    entry.answers.set(ip, allowed);
  }
  return allowed;
}
