import { Command } from "commander";
import { Refused } from "../io.ts";

// Placeholder until this command is written.
export function auditCommand(): Command {
  return new Command("audit").allowUnknownOption().allowExcessArguments().action(() => {
    throw new Refused("'audit' is not available yet");
  });
}
