import { pbkdf2Sync } from "node:crypto";
import { hashSync as bcryptHashSync } from "@node-rs/bcrypt";
import { hashPassword } from "../../src/password/hash.ts";

export const HEADER = "login_id,full_name,partner_number,role,email,password_hash";

/** bcrypt at cost 4 keeps the tests fast; the format is what matters to the importer. */
export function bcryptHash(password: string, prefix: "2a" | "2b" | "2y" = "2b", cost = 4): string {
  // $2a$, $2b$ and $2y$ compute the same hash for passwords under 255 bytes; only the prefix differs.
  return bcryptHashSync(password, cost).replace(/^\$2b\$/, `$${prefix}$`);
}

/** Django's PBKDF2PasswordHasher.encode(), at a low iteration count for speed. */
export function djangoPbkdf2(password: string, salt: string, iterations = 1000): string {
  return `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64")}`;
}

/** RFC 4180 §2.6–2.7: quote a field holding a comma, quote or line break, doubling its quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export interface GeneratedUser {
  /** The row as it goes in the file, columns in HEADER's order. */
  row: string;
  loginId: string;
  fullName: string;
  partnerNumber: string;
  role: string;
  email: string;
  hash: string;
  password: string;
  format: "argon2id" | "bcrypt" | "pbkdf2_sha256";
}

/**
 * Good rows cycling through argon2id (three hashes reused: argon2id is slow by design), bcrypt
 * ($2a$/$2b$/$2y$ in turn) and PBKDF2; every other row has an email.
 */
export async function goodRows(count: number): Promise<GeneratedUser[]> {
  const argon = await Promise.all(
    [0, 1, 2].map(async (n) => ({ password: `argon password number ${n}`, hash: await hashPassword(`argon password number ${n}`) })),
  );
  const users: GeneratedUser[] = [];
  for (let i = 0; i < count; i += 1) {
    const loginId = `user${String(i).padStart(4, "0")}`;
    const email = i % 2 === 0 ? `${loginId}@dealer.example` : "";
    let password = `password of ${loginId}`;
    let hash: string;
    let format: GeneratedUser["format"];
    if (i % 3 === 0) {
      ({ password, hash } = argon[(i / 3) % 3]!);
      format = "argon2id";
    } else if (i % 3 === 1) {
      hash = bcryptHash(password, (["2a", "2b", "2y"] as const)[Math.floor(i / 3) % 3]);
      format = "bcrypt";
    } else {
      hash = djangoPbkdf2(password, `salt${i}`);
      format = "pbkdf2_sha256";
    }
    // One name needs quoting: a comma and a quote.
    const fullName = i === 7 ? 'O\'Brien, "Pat"' : `User ${i}`;
    const role = i % 50 === 0 ? "support" : i % 10 === 0 ? "User" : "";
    const partnerNumber = String(i).padStart(5, "0");
    const row = [loginId, fullName, partnerNumber, role, email, hash].map(csvField).join(",");
    users.push({ row, loginId, fullName, partnerNumber, role, email, hash, password, format });
  }
  return users;
}
