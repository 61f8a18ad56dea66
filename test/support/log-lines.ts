import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import pino from "pino";

/** One line of pino's JSON log, as a test reads it. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** pino's levels: what an operator's alert on warnings and errors would see. */
export const WARN = 40;
export const ERROR = 50;

/** A pino logger at info (as `famos serve` logs) whose lines land in `lines`. */
export function loggerWithLines(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

/** A bare Fastify app whose log lines (pino at info, as `famos serve` logs) land in `lines`. */
export function appWithLogLines(): { app: FastifyInstance; lines: LogLine[] } {
  const { logger, lines } = loggerWithLines();
  return { app: Fastify({ loggerInstance: logger as FastifyBaseLogger }), lines };
}
