/**
 * The contract between the load driver and a scenario module.
 *
 * A scenario module (a TS file given to the driver by path) exports `steps`: the ordered async steps of
 * one *flow* (one complete sign-in). The driver runs `concurrency` virtual users; each runs flows back to
 * back, each flow with a fresh cookie jar (a fresh browser) and the next user of its own share of the
 * user list (no two virtual users ever sign in as the same user at once). The driver times every step,
 * counts a flow as failed at the first step that throws, and reports rates and percentiles.
 */
import type { VuHttp } from "./http.ts";
import type { SmtpSink } from "./smtp-sink.ts";

export interface BenchUser {
  /** What the sign-in form takes: the login ID for FAMOS, the email for better-auth. */
  login: string;
  password: string;
  /** Where the code is mailed. */
  email: string;
}

/** `password` marks the step that checks the password, `confirm` the one that checks the code. */
export type StepRole = "password" | "confirm";

export interface FlowContext {
  http: VuHttp;
  user: BenchUser;
  sink: SmtpSink;
  /** Index of the virtual user, and of this flow among all the flows the driver has started. */
  vu: number;
  flow: number;
  /** Scratch space for one flow (e.g. the CSRF token, the time the code was requested). */
  state: Record<string, unknown>;
  /** Scenario parameters given to the driver run. */
  params: Record<string, unknown>;
  /** Adds a sample (ms) to a named extra metric, e.g. "code→smtp". */
  metric(name: string, ms: number): void;
  /** `performance.now()`: the clock of the SMTP sink too. */
  now(): number;
}

export interface Step {
  name: string;
  role?: StepRole;
  run(ctx: FlowContext): Promise<void>;
}

export interface ScenarioModule {
  steps: Step[];
  /** What the scenario is (printed with the results). */
  description?: string;
}

/** Thrown by a step to say the server answered something other than what the flow needs. */
export class FlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlowError";
  }
}
