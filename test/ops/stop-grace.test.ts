import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

/**
 * serve drains for up to 25 s after SIGTERM, then puts the mail still at the SMTP server back in the
 * queue (up to 2 s more). A supervisor that sends SIGKILL sooner cuts that short: Docker's default is
 * 10 s, so a slow relay's code mails stayed leased and were mailed again a minute late.
 */
describe("every way of running serve lets its graceful stop finish", () => {
  it("compose gives the famos services 30 s before SIGKILL, as the systemd unit does", () => {
    expect(read("deploy/systemd/famos@.service")).toMatch(/^TimeoutStopSec=30s$/m);
    const anchor = /^x-famos: &famos\n((?: {2}.*\n)+)/m.exec(read("deploy/compose.yaml"))![1]!;
    expect(anchor).toMatch(/^ {2}stop_grace_period: 30s$/m);
  });

  it("the README's docker run does too", () => {
    const readme = read("README.md");
    const run = /^docker run --read-only[^\n]*(?:\\\n[^\n]*)*/m.exec(readme)![0];
    expect(run).toMatch(/--stop-timeout 30\b/);
  });

  it("the Dockerfile's own example docker run does too", () => {
    const run = /^# +docker run --read-only[^\n]*(?:\\\n[^\n]*)*/m.exec(read("Dockerfile"))![0];
    expect(run).toMatch(/--stop-timeout 30\b/);
  });
});
