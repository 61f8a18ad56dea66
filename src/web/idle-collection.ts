import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Clock } from "../platform/clock.ts";

/** No request begun for this long after a busy spell: the server has gone quiet. */
export const IDLE_QUIET_MS = 5_000;
/** How often the count of requests is looked at (a timer that never keeps the process alive). */
export const IDLE_LOOK_MS = 1_000;
/** A busy spell: at least this many requests since the last collection (a sign-in is six). */
export const IDLE_MIN_REQUESTS = 60;

export interface RequestActivity {
  /** Requests begun since the start (a counter the server's request listener adds one to). */
  requests(): number;
  /** True while a request is still being answered. */
  inFlight(): boolean;
}

export interface IdleCollectionOptions {
  activity: RequestActivity;
  clock: Clock;
  /** One full garbage collection (fullCollection()). */
  collect: () => void;
  quietMs?: number;
  minRequests?: number;
  /** Calls `look` every `ms` until the returned function is called (an unref'd setInterval by default). */
  every?: (ms: number, look: () => void) => () => void;
}

const unrefInterval = (ms: number, look: () => void): (() => void) => {
  const timer = setInterval(look, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Gives memory back once the server has gone quiet. V8's memory reducer is meant to collect when a
 * process stops allocating, but it judges the allocation rate from what it recorded at its last
 * collections, so after a busy spell it goes on seeing "high alloc" and an idle `famos serve` kept the
 * old space's garbage (heap in use 37–64 MB over ~31 MB live; bench/HISTORY.md, the thirty-seventh and
 * thirty-eighth rounds). So: once no request has begun for `quietMs` after at least `minRequests`,
 * and none is still being answered, one full collection; then none until a new busy spell. Under load
 * this costs one counter increment per request and a look at it once a second.
 */
export function collectWhenIdle(options: IdleCollectionOptions): { stop(): void } {
  const { activity, clock, collect, quietMs = IDLE_QUIET_MS, minRequests = IDLE_MIN_REQUESTS } = options;
  let seen = activity.requests();
  let changedAt = clock.now();
  let collectedAt = seen;
  const look = () => {
    const count = activity.requests();
    if (count !== seen) {
      seen = count;
      changedAt = clock.now();
      return;
    }
    if (count - collectedAt < minRequests || clock.now() - changedAt < quietMs || activity.inFlight()) return;
    collectedAt = count;
    collect();
  };
  return { stop: (options.every ?? unrefInterval)(IDLE_LOOK_MS, look) };
}

/**
 * V8's full collection, or null where this Node does not give it. The `gc` function is taken once, from
 * a fresh context made while --expose-gc is set, and the flag is unset again: no `gc` global appears
 * in the server's own context or in any context made later. Started with --expose-gc, that one is used.
 */
export function fullCollection(): (() => void) | null {
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return () => void exposed();
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("typeof gc === 'function' ? gc : undefined");
    return typeof gc === "function" ? () => void gc() : null;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
