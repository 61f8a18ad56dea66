import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.ts";

/**
 * Issue 17 (memory): @simplewebauthn/server and its X.509 and ASN.1 stack hold about 7 MB of heap. A
 * server loads them when a page that offers a passkey ceremony fetches the browser half, never at
 * start or for a sign-in without passkeys. In a process of its own: the test runner's workers keep
 * the modules that earlier files loaded.
 */
describe("the passkey library is loaded when a ceremony is near", () => {
  it("not at start nor for a sign-in without passkeys, but once the browser half is fetched", () => {
    const fixture = fileURLToPath(new URL("./fixtures/lazy-library.ts", import.meta.url));
    const out = execFileSync(process.execPath, ["--import", "tsx", fixture], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ afterStart: false, afterSignIn: false, libraryServed: true, afterLibrary: true, loaded: true });
  });
});
