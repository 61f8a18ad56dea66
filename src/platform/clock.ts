/** Time is injected so expiry and lockout can be tested without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. An operation reads it once and passes the value on. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock for tests: stands still until moved. */
export class FixedClock implements Clock {
  constructor(private time: number = Date.UTC(2026, 10, 28, 14, 0, 0)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
  set(ms: number): void {
    this.time = ms;
  }
}
