import { BlockList, isIPv4, isIPv6 } from "node:net";
import { Kept } from "../platform/kept.ts";

/** A list's ranges, and its answers so far by address. */
interface Ranges {
  list: BlockList;
  answers: Kept<string, boolean>;
}

const cache = new Map<string, Ranges>();

/**
 * Addresses whose answer is kept per list: one per client in practice, from input in principle (Kept
 * starts again past it). Node's BlockList.check builds a SocketAddress (a native object) for every
 * address it is given, ~6 µs each, and every password and code step asks (issue 17).
 */
const ANSWERS_KEPT = 4096;

/** Is the address inside one of the ranges ("127.0.0.1/8", "::1", "10.0.0.5")? */
export function addressAllowed(ip: string, ranges: readonly string[]): boolean {
  if (ranges.length === 0) return false;
  const key = ranges.join(",");
  let kept = cache.get(key);
  if (!kept) {
    const list = new BlockList();
    for (const range of ranges) {
      const [address, bits] = range.split("/");
      const type = isIPv6(address!) ? "ipv6" : "ipv4";
      if (!isIPv4(address!) && !isIPv6(address!)) continue;
      if (bits === undefined) list.addAddress(address!, type);
      else list.addSubnet(address!, Number(bits), type);
    }
    kept = { list, answers: new Kept(ANSWERS_KEPT) };
    cache.set(key, kept);
  }
  const { list } = kept;
  return kept.answers.get(ip, () => {
    const mapped = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    return list.check(mapped, isIPv6(mapped) ? "ipv6" : "ipv4");
  });
}
