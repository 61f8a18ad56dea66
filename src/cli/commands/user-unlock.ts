import { Command } from "commander";
import { Refused } from "../io.ts";

// Placeholder until this command is written.
export function userUnlockCommand(): Command {
  return new Command("unlock").allowUnknownOption().allowExcessArguments().action(() => {
    throw new Refused("'unlock' is not available yet");
  });
}
