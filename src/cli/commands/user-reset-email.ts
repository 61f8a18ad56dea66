import { Command } from "commander";
import { Refused } from "../io.ts";

// Placeholder until this command is written.
export function userResetEmailCommand(): Command {
  return new Command("reset-email").allowUnknownOption().allowExcessArguments().action(() => {
    throw new Refused("'reset-email' is not available yet");
  });
}
