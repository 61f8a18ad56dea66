import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import type { Config } from "../config/config.ts";

export type RecordState = "published" | "missing" | "different";

export interface RecordCheck {
  kind: "SPF" | "DKIM" | "DMARC";
  name: string;
  state: RecordState;
  /** The record found, or what is wrong. */
  detail: string;
}

export type MailDnsCheck =
  | { kind: "checked"; records: RecordCheck[] }
  /** No answer from DNS at all: nothing can be said about the records. */
  | { kind: "unreachable"; reason: string };

/** Answers that mean the question never got a real answer (as opposed to "no such record"). */
const UNREACHABLE = new Set(["ETIMEOUT", "ECONNREFUSED", "EREFUSED", "ESERVFAIL", "ECONNRESET", "EAI_AGAIN", "ECANCELLED", "EDESTRUCTION"]);
const ABSENT = new Set(["ENOTFOUND", "ENODATA", "ENONAME", "NXDOMAIN"]);

class DnsUnreachable extends Error {}

/** The domains and key `famos mail check` looks at, from the configuration. */
export function mailDnsTargets(config: Readonly<Config>): { fromDomain: string; bounceDomain: string | null; dkim: { name: string; publicKey: string } | null } {
  const address = config.mailFromAddress;
  const fromDomain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  const dkim = config.dkim
    ? {
        name: `${config.dkim.selector}._domainkey.${config.dkim.domain}`,
        publicKey: createPublicKey(createPrivateKey(readFileSync(config.dkim.keyFile, "utf8"))).export({ type: "spki", format: "der" }).toString("base64"),
      }
    : null;
  return { fromDomain, bounceDomain: config.bounce.domain, dkim };
}

/**
 * SPF (RFC 7208) for the envelope sender's domain — the bounce domain when VERP is on — and the From
 * domain; DKIM (RFC 6376 §3.6.1) for the selector, with the configured key; DMARC (RFC 7489 §6.1)
 * for the From domain. `servers` overrides the system's resolvers ("127.0.0.1:5353").
 */
export async function checkMailDns(
  targets: ReturnType<typeof mailDnsTargets>,
  options: { servers?: string[]; timeoutMs?: number } = {},
): Promise<MailDnsCheck> {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 3000, tries: 1 });
  if (options.servers?.length) resolver.setServers(options.servers);
  const txt = async (name: string): Promise<string[] | null> => {
    try {
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      if (ABSENT.has(code)) return null;
      throw new DnsUnreachable(`${code || String(error)} asking for ${name}${UNREACHABLE.has(code) ? "" : " (unexpected answer)"}`);
    }
  };
  const find = async (kind: RecordCheck["kind"], name: string, tag: RegExp): Promise<RecordCheck> => {
    const record = (await txt(name))?.find((r) => tag.test(r));
    return record ? { kind, name, state: "published", detail: record } : { kind, name, state: "missing", detail: `no ${kind} record` };
  };
  try {
    // A resolver that cannot see the internet (a closed network) answers "no such name" to everything:
    // the sending domain's top-level domain always has an SOA record, so its absence means that.
    const tld = targets.fromDomain.slice(targets.fromDomain.lastIndexOf(".") + 1);
    try {
      await resolver.resolveSoa(tld);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new DnsUnreachable(ABSENT.has(code) ? `the DNS server does not know the top-level domain "${tld}", so it cannot see the internet` : `${code} asking for the top-level domain "${tld}"`);
    }
    const spfDomains = [...new Set([targets.bounceDomain, targets.fromDomain].filter((d): d is string => d !== null))];
    const records: RecordCheck[] = [];
    for (const domain of spfDomains) records.push(await find("SPF", domain, /^v=spf1(\s|$)/i));
    if (targets.dkim) {
      const dkim = await find("DKIM", targets.dkim.name, /(^|;)\s*p=/i);
      if (dkim.state === "published") {
        const published = /(?:^|;)\s*p=([^;]*)/i.exec(dkim.detail)?.[1]?.replace(/\s+/g, "") ?? "";
        if (published !== targets.dkim.publicKey) Object.assign(dkim, { state: "different", detail: "the published key (p=) is not the public half of FAMOS_DKIM_KEY_FILE" });
      }
      records.push(dkim);
    }
    records.push(await find("DMARC", `_dmarc.${targets.fromDomain}`, /^v=DMARC1(\s*;|$)/i));
    return { kind: "checked", records };
  } catch (error) {
    if (error instanceof DnsUnreachable) return { kind: "unreachable", reason: error.message };
    throw error;
  }
}
