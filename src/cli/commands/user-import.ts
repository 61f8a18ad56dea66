import { Command } from "commander";
import { Refused } from "../io.ts";

// Placeholder until this command is written.
export function userImportCommand(): Command {
  return new Command("import").allowUnknownOption().allowExcessArguments().action(() => {
    throw new Refused("'import' is not available yet");
  });
}
