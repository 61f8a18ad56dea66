// How one FAMOS_ variable is read: trimmed, blank as unset, its default recorded where taken, and each
// kind of value (whole number, duration, byte size) checked against its bounds with one wording.
import { byteSizeInWords, parseByteSize } from "./byte-size.ts";
import { parseDuration } from "./duration.ts";
import type { Problems } from "./problems.ts";

export type Env = Record<string, string | undefined>;

export class SettingReader {
  /** ConfigResult's `defaults`: each value the parser took for a setting left unset. */
  readonly defaults = new Map<string, string>();

  constructor(
    private readonly env: Env,
    private readonly problems: Problems,
  ) {}

  /** The value trimmed; undefined when unset or blank. */
  read = (name: string): string | undefined => {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };

  /** Records `value` as the one taken for `name` (where the parser falls back on it) and returns it. */
  byDefault = (name: string, value: string): string => {
    if (value !== "") this.defaults.set(name, value);
    return value;
  };

  integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = this.read(name);
    if (raw === undefined) {
      this.byDefault(name, String(fallback));
      return fallback;
    }
    // Digits only, so Number reads it whole; one too long for a double reads as Infinity, above `max`.
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      this.problems.add(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  duration = (name: string, fallback: string, minMs: number, maxMs: number): number => {
    const raw = this.read(name) ?? this.byDefault(name, fallback);
    const ms = parseDuration(raw);
    if (ms === null || ms < minMs || ms > maxMs) {
      this.problems.add(name, `must be a duration such as 90s, 15m or 1h, between ${minMs / 1000}s and ${maxMs / 1000}s (got "${raw}")`);
      return parseDuration(fallback)!;
    }
    return ms;
  };

  byteSize = (name: string, fallback: number, min: number, max: number): number => {
    const raw = this.read(name) ?? this.byDefault(name, byteSizeInWords(fallback));
    const bytes = parseByteSize(raw);
    if (bytes === null || bytes < min || bytes > max) {
      this.problems.add(name, `must be a size in bytes such as 65536, 512KiB or 4MiB, from ${byteSizeInWords(min)} to ${byteSizeInWords(max)} (got "${raw}")`);
      return fallback;
    }
    return bytes;
  };
}
