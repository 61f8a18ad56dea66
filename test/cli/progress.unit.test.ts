import { afterEach, describe, expect, it } from "vitest";
import { progressBar } from "../../src/cli/progress.ts";

describe("progressBar", () => {
  const original = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
  const setTty = (value: boolean) => Object.defineProperty(process.stderr, "isTTY", { value, configurable: true });
  afterEach(() => {
    if (original) Object.defineProperty(process.stderr, "isTTY", original);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  });

  it("draws on a terminal: a bar with the command's format, on standard error", async () => {
    setTty(true);
    const bar = await progressBar("Importing [{bar}] {value}/{total} rows");
    expect(bar).not.toBeNull();
    expect((bar as unknown as { options: { format: string; stream: unknown } }).options).toMatchObject({ format: "Importing [{bar}] {value}/{total} rows", stream: process.stderr });
  });

  it("draws nothing into a pipe or a log file, or when the command asks for none (a dry run)", async () => {
    setTty(false);
    expect(await progressBar("Importing [{bar}]")).toBeNull();
    setTty(true);
    expect(await progressBar("Announcing [{bar}]", false)).toBeNull();
  });
});
