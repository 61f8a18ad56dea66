import { Command, InvalidArgumentError } from "commander";
import { checkMailDns, mailDnsTargets } from "../../mail/dns-check.ts";
import { configOrExit, Refused } from "../io.ts";
import { terminalText } from "../../platform/terminal-text.ts";

function dnsServer(value: string, previous: string[] = []): string[] {
  if (!/^[0-9a-f.:[\]]+$/i.test(value)) throw new InvalidArgumentError("give an IP address, optionally with a port (127.0.0.1:53)");
  return [...previous, value];
}

/** `famos mail check`: are SPF, DKIM and DMARC published for the sending domain (issue 15)? */
export function mailCommand(): Command {
  const mail = new Command("mail").description("mail delivery settings");
  mail
    .command("check")
    .description("look up the SPF, DKIM and DMARC records of the sending domain; says so plainly when DNS cannot be reached")
    .option("--dns-server <address>", "ask this DNS server instead of the system's (repeatable)", dnsServer)
    .action(async (options: { dnsServer?: string[] }) => {
      const config = configOrExit();
      const result = await checkMailDns(mailDnsTargets(config), options.dnsServer ? { servers: options.dnsServer } : {});
      if (result.kind === "unreachable") {
        throw new Refused(`DNS cannot be reached from here (${result.reason}), so SPF, DKIM and DMARC were not checked. Run this on a machine that can reach DNS.`);
      }
      // A TXT record's text is whatever the domain's DNS (or whoever answers for it) put there.
      for (const r of result.records) process.stdout.write(`${terminalText(`${r.kind.padEnd(5)} ${r.name}: ${r.state}, ${r.detail}`)}\n`);
      if (!config.dkim) process.stdout.write("DKIM  not checked: FAMOS does not sign (set FAMOS_DKIM_DOMAIN, FAMOS_DKIM_SELECTOR, FAMOS_DKIM_KEY_FILE)\n");
      const wrong = result.records.filter((r) => r.state !== "published");
      if (wrong.length === result.records.length) {
        process.stderr.write("Nothing was found at all: if this machine's DNS cannot see the internet, run the check where it can.\n");
      }
      if (wrong.length > 0) throw new Refused(`${wrong.map((r) => `${r.kind} ${r.state}`).join(", ")}: receiving servers may put FAMOS's mail in the junk folder or refuse it`);
    });
  return mail;
}
