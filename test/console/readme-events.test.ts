import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AUDIT_EVENTS } from "../../src/audit/events.ts";

/** SPEC: "event names are listed in the README". Keeps the list and src/audit/events.ts together. */
describe("the README's Audit events section", () => {
  it("lists every event name FAMOS writes, and no other", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.split("### Audit events")[1]!.split(/\n#{2,3} /)[0]!;
    const listed = [...section.matchAll(/^\| `([a-z.-]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(AUDIT_EVENTS).sort());
  });
});
