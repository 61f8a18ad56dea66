import { setTimeout as sleep } from "node:timers/promises";
import { terminalText } from "../../platform/terminal-text.ts";
import { maskEmail } from "../../platform/format.ts";
import { Command } from "commander";
import { portalRefused, portalUnknown } from "../../rollout/announce-mail.ts";
import { AnnouncementRefused, announceRollout, type AnnounceReport } from "../../rollout/announce.ts";
import { noUserHasPartner } from "../../rollout/plan-change.ts";
import { operator, withServices } from "../context.ts";
import { warnNoSuchPartner } from "./rollout-plan.ts";
import { Refused } from "../io.ts";
import { progressBar } from "../progress.ts";
import { partnerNumberProblem } from "../../users/fields.ts";
import { STOPPED_EXIT_CODE, untilStopped } from "../stop-signal.ts";

/** Keeps FAMOS_ANNOUNCE_RATE against real time: each mail waits for its slot after the previous one. */
function pacer(perSecond: number): () => Promise<void> {
  const gap = 1000 / perSecond;
  let next = Date.now();
  return async () => {
    next = Math.max(next + gap, Date.now());
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  };
}

export function rolloutAnnounceCommand(): Command {
  return new Command("announce")
    .description("mail the 2FA announcement to users with a known address and no confirmed OTP email (never twice); list users without any address")
    .option("--partner <number>", "only this partner's users")
    .option("--dry-run", "count and list, mail no one")
    .action(async (options: { partner?: string; dryRun?: boolean }) => {
      const partner = options.partner?.trim() ?? null;
      const partnerProblem = partner === null ? null : partnerNumberProblem(partner);
      if (partnerProblem !== null) throw new Refused(partnerProblem);
      await withServices(async ({ deps, sender }) => {
        const unknown = portalUnknown(deps.config);
        if (unknown && !portalRefused(deps.config, options.dryRun === true)) {
          process.stderr.write(`famos: warning: ${unknown}${options.dryRun ? "; set it before the real run" : " (development mode; in production the command refuses)"}\n`);
        }
        if (partner !== null && (await noUserHasPartner(deps.db, partner))) warnNoSuchPartner(partner);
        // Mail leaves as it is queued, at the paced rate, rather than all at the end.
        if (!options.dryRun) sender.start();
        const bar = await progressBar("Announcing [{bar}] {value}/{total} users", !options.dryRun);
        await untilStopped(async (stopping) => {
          const report = await announceRollout(deps, {
            partner,
            dryRun: options.dryRun === true,
            actor: operator(),
            onStart: (total) => bar?.start(total, 0),
            onProgress: (done) => bar?.update(done),
            pace: pacer(deps.config.rollout.announceRate),
            shouldStop: stopping,
          }).catch((error: unknown) => {
            throw error instanceof AnnouncementRefused ? new Refused(error.message) : error;
          });
          bar?.stop();
          printReport(report, options.dryRun === true);
        });
      });
    });
}

/** A dry run lists this many of those it would mail, then how many more. */
const WOULD_MAIL_SHOWN = 50;

function printReport(r: AnnounceReport, dryRun: boolean): void {
  const lines = [
    `${r.mailed} ${dryRun ? "would be mailed" : "mailed"}`,
    `${r.alreadyAnnounced} already announced (not mailed again)`,
    `${r.enrolled} already enrolled (not mailed)`,
    // Said only when there are any, so the line a script reads is as it was for everyone else.
    ...(r.alreadyTwoFactor > 0 ? [`${r.alreadyTwoFactor} already signing in with two factors (an OTP email reset by support, or a role that always does: not mailed)`] : []),
    `${r.withoutAddress.length} without any address`,
    ...(r.bounced.length > 0 ? [`${r.bounced.length} bounced (already announced, not mailed again)`] : []),
  ];
  process.stdout.write(`${lines.join(", ")}.\n`);
  if (r.wouldMail.length > 0) {
    // Masked as on the console: enough to spot a wrong domain, and a terminal's scrollback is not a mailing list.
    const list = r.wouldMail.slice(0, WOULD_MAIL_SHOWN).map((u) => `  ${[u.partnerNumber, u.loginId, u.fullName, maskEmail(u.address)].map(terminalText).join("\t")}`);
    const more = r.wouldMail.length - WOULD_MAIL_SHOWN;
    process.stdout.write(`Users who would be mailed (partner, login ID, name, address):\n${[...list, ...(more > 0 ? [`  … and ${more} more`] : [])].join("\n")}\n`);
  }
  if (r.stopped) {
    process.stdout.write(`Stopped with ${r.left} still to mail: run the same command again to continue; nobody is mailed twice.\n`);
    // So a script sees the run is not complete.
    process.exitCode = STOPPED_EXIT_CODE;
  }
  if (r.withoutAddress.length > 0) {
    // Names and login IDs stored before their rules were strict may hold control characters.
    const list = r.withoutAddress.map((u) => `  ${[u.partnerNumber, u.loginId, u.fullName].map(terminalText).join("\t")}`);
    process.stdout.write(`Users without any address (partner, login ID, name) — reach them another way:\n${list.join("\n")}\n`);
  }
  if (r.bounced.length > 0) {
    // The receiving server's words come from outside: control characters go, as for names.
    const list = r.bounced.map((u) => `  ${[u.partnerNumber, u.loginId, u.fullName, u.address, u.reason ?? ""].map(terminalText).join("\t")}`);
    process.stdout.write(`Announcements that bounced (partner, login ID, name, address, the receiving server's words) — reach them another way:\n${list.join("\n")}\n`);
  }
}
