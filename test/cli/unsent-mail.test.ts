import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp.ts";
import { bcryptHash, HEADER } from "./import-fixtures.ts";
import { cliWorkspace, type CliWorkspace } from "./run-famos.ts";

/**
 * A `famos` command that mails (here the OTP email reset's notice) while the mail server cannot be
 * reached: the command did its work (exit 0) and says the mail waits in the outbox for the server's
 * sender, rather than leaving "is told of the reset" to be read as delivered. With the relay up it says
 * nothing more.
 *
 * The commands that meet the relay down run as real `famos` processes (the exit code as the shell sees
 * it, and no sender left behind); the imports that set the scene and the reset with the relay up are
 * the same commands through main() in this process (cli.inProcess).
 */

let cli: CliWorkspace;
let smtp: TestSmtpServer;
const FROM = { FAMOS_MAIL_FROM: "FAMOS <no-reply@famos.test>" };

beforeAll(async () => {
  cli = cliWorkspace();
  smtp = await startSmtpServer();
  const hash = bcryptHash("a password of some length");
  writeFileSync(join(cli.dir, "users.csv"), `${[HEADER, `ann,Ann A,4711,,ann@dealer.example,${hash}`, `bo,Bo B,4711,,bo@dealer.example,${hash}`].join("\n")}\n`);
  expect((await cli.inProcess(["user", "import", join(cli.dir, "users.csv")])).code).toBe(0);
});
afterAll(async () => {
  await smtp.stop();
  cli.remove();
});

it("a relay that cannot be reached: the command succeeds and says the notice waits in the outbox, with the relay's words", async () => {
  const gone = await startSmtpServer();
  const url = gone.url;
  await gone.stop();
  const reset = await cli.run(["user", "reset-email", "ann", "--name", "Ann A", "--partner", "4711", "--ticket", "T-1"], { env: { ...FROM, FAMOS_SMTP_URL: url } });
  expect(reset.code).toBe(0);
  expect(reset.stderr).toMatch(/^famos: 1 email is not sent yet \(the mail server: connect ECONNREFUSED [^)]+\): it waits in the outbox, and the FAMOS server \(famos serve\) sends it once the mail server takes it\.$/m);
}, 60_000);

it("a relay that takes the mail: nothing more is said", async () => {
  const reset = await cli.inProcess(["user", "reset-email", "bo", "--name", "Bo B", "--partner", "4711", "--ticket", "T-2"], { env: { ...FROM, FAMOS_SMTP_URL: smtp.url } });
  expect(reset.code).toBe(0);
  expect(reset.stderr).not.toMatch(/not sent yet/);
  expect(smtp.messages.filter((m) => m.envelopeTo.includes("bo@dealer.example"))).toHaveLength(1);
}, 60_000);

it("announce with the relay down: no line per waiting message (other partners' too), only the closing line with the relay's words", async () => {
  const gone = await startSmtpServer();
  const url = gone.url;
  await gone.stop();
  const hash = bcryptHash("a password of some length");
  writeFileSync(join(cli.dir, "contacts.csv"), `${[HEADER, `cy,Cy C,5001,,cy@dealer.example,${hash}`, `di,Di D,5002,,di@dealer.example,${hash}`, `ed,Ed E,5002,,ed@dealer.example,${hash}`].join("\n")}\n`);
  expect((await cli.inProcess(["user", "import", "--email-as-contact", join(cli.dir, "contacts.csv")])).code).toBe(0);
  const env = { ...FROM, FAMOS_SMTP_URL: url, FAMOS_ANNOUNCE_RATE: "100", FAMOS_PUBLIC_URL: "https://famos.dealer.example" };
  expect((await cli.run(["rollout", "announce", "--partner", "5001"], { env })).code).toBe(0);
  // Partner 5001's mail still waits in the outbox: this run's sender tries it again, and says nothing of it.
  const second = await cli.run(["rollout", "announce", "--partner", "5002"], { env });
  expect(second.code).toBe(0);
  expect(second.stderr).not.toMatch(/mail deferred/);
  // One line of the relay's state, with its words, then the closing line.
  expect(second.stderr).toMatch(/^famos: the mail relay cannot be reached: mail waits, one message tries it at a time: connect ECONNREFUSED [^\n]+\nfamos: 2 emails are not sent yet \(the mail server: connect ECONNREFUSED [^)]+\): they wait in the outbox, and the FAMOS server \(famos serve\) sends them once the mail server takes them\.\n$/);
}, 60_000);
