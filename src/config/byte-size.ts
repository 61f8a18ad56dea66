const UNITS: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 * 1024 };

/**
 * Parses "65536", "512KiB" or "4MiB" (units in any case) into bytes; null when malformed. Only binary
 * units: "1MB" could mean 10^6 or 2^20 bytes, and a bound should say which.
 */
export function parseByteSize(text: string): number | null {
  const match = /^\s*(\d{1,12})\s*(b|kib|mib)?\s*$/i.exec(text);
  if (!match) return null;
  const bytes = Number(match[1]) * UNITS[(match[2] ?? "").toLowerCase()]!;
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A byte count as an operator writes it: "1MiB", "64KiB", "1000". */
export function byteSizeInWords(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return String(bytes);
}
