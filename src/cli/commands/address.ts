import { Command } from "commander";
import { formatDateTime } from "../../platform/format.ts";
import type { AddressLock } from "../../regulation/locks.ts";
import { parseAddress, showAddress, unlockAddressBy } from "../../support/address-locks.ts";
import { operator, withServices } from "../context.ts";
import { Refused } from "../io.ts";
import { pauseOverBy } from "../../regulation/pause-end.ts";
import { shownAddress } from "../../regulation/address.ts";

function describe(lock: AddressLock | null, timezone: string): string {
  if (!lock || lock.failures === 0) return "no failed sign-ins counted";
  const state = lock.lockedUntil ? `locked for new browsers until ${formatDateTime(pauseOverBy(lock.lockedUntil), timezone)}` : "not locked";
  return `${lock.failures} failed sign-ins since ${formatDateTime(lock.windowStartedAt, timezone)}; ${state}`;
}

function address(raw: string): string {
  const parsed = parseAddress(raw);
  if (!parsed.ok) throw new Refused(parsed.message);
  return parsed.address;
}

/** `famos address show|unlock ADDRESS`: the per-address lock for new browsers (SPEC "Locks"). */
export function addressCommand(): Command {
  const show = new Command("show")
    .description("show an address's count of failed sign-ins from new browsers and its lock")
    .argument("<address>")
    .action(async (raw: string) => {
      const ip = address(raw);
      await withServices(async ({ deps }) => {
        process.stdout.write(`${shownAddress(ip)}: ${describe(await showAddress(deps, ip), deps.config.timezone)}\n`);
      });
    });
  const unlock = new Command("unlock")
    .description("clear an address's count of failed sign-ins and its lock; prints what was lifted")
    .argument("<address>")
    .action(async (raw: string) => {
      const ip = address(raw);
      await withServices(async ({ deps }) => {
        const outcome = await unlockAddressBy(deps, { user: null, audit: operator() }, ip);
        if (outcome.kind === "forbidden") throw new Refused(outcome.message);
        const lifted = outcome.lifted && outcome.lifted.failures > 0 ? `lifted ${describe(outcome.lifted, deps.config.timezone)}` : `nothing to lift (${describe(null, deps.config.timezone)})`;
        process.stdout.write(`${shownAddress(ip)}: ${lifted}\n`);
      });
    });
  return new Command("address").description("see and lift address locks").addCommand(show).addCommand(unlock);
}
