/** What run.ts needs from a system under test: how to start it, with users, and which scenario drives it. */
import type { ServerProcess } from "./proc.ts";
import type { BenchUser } from "./types.ts";

export interface PrepareOptions {
  /** The driver's SMTP sink port on 127.0.0.1. */
  sinkPort: number;
  users: number;
  /** The fewest users the run can do with (two per virtual user at the highest level). */
  minUsers: number;
  /** An empty temporary directory for the database and files. */
  workDir: string;
  /** Extra Node flags for the server (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** The program the server runs on instead of this Node (e.g. a wrapper that starts it under valgrind), and how long it may take to listen. */
  execPath?: string;
  readyTimeoutMs?: number;
}

export interface PreparedTarget {
  origin: string;
  server: ServerProcess;
  users: BenchUser[];
  /** Said in the output (e.g. which limits were lifted). */
  notes: string[];
}

export interface Target {
  key: string;
  name: string;
  /** Path of the scenario module, relative to the repository root. */
  scenario: string;
  /** argon2id verifications per complete flow (to split "CPU beyond the hash" from the hash). */
  verifiesPerFlow: number;
  prepare(options: PrepareOptions): Promise<PreparedTarget>;
}
