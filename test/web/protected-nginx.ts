import { readFileSync } from "node:fs";

/**
 * The nginx site of the README's "nginx (`auth_request`)" section, read from README.md itself, with
 * the addresses replaced for the test: TLS lines out, a loopback port in, FAMOS's and the
 * application's addresses swapped. So the configuration the README shows is the one the tests run.
 */
export function nginxForwardAuthConfig(options: { listen: number; serverName: string; famos: string; app: string }): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const heading = readme.indexOf("#### nginx (`auth_request`)");
  const block = heading < 0 ? null : /```nginx\n([\s\S]*?)```/.exec(readme.slice(heading));
  if (!block) throw new Error("README.md has no nginx block under '#### nginx (`auth_request`)'");
  let config = block[1]!;
  const replace = (pattern: RegExp | string, value: string) => {
    const next = typeof pattern === "string" ? config.replaceAll(pattern, value) : config.replace(pattern, value);
    if (next === config) throw new Error(`README's nginx block no longer contains ${String(pattern)}`);
    config = next;
  };
  replace(/^(\s*)listen 443 ssl;$/m, `$1listen 127.0.0.1:${options.listen};`);
  replace(/^\s*ssl_certificate(_key)?\s.*\n/gm, "");
  replace("server_name app.dealer.example;", `server_name ${options.serverName};`);
  // Not followed by a digit: FAMOS's address put in first may itself begin "http://127.0.0.1:4000"
  // (a port from 40000 to 40009), which the application's placeholder would then take for its own.
  replace(/http:\/\/127\.0\.0\.1:3000(?!\d)/g, options.famos);
  replace(/http:\/\/127\.0\.0\.1:4000(?!\d)/g, options.app);
  return config;
}
