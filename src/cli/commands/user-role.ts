import { Command } from "commander";
import { Refused } from "../io.ts";

// Placeholder until this command is written.
export function userRoleCommand(): Command {
  return new Command("role").allowUnknownOption().allowExcessArguments().action(() => {
    throw new Refused("'role' is not available yet");
  });
}
