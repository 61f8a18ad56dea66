import { createHmac, hkdfSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveKeys, hmacHex } from "../../src/platform/keys.ts";
import { FormClient } from "../support/client.ts";
import { createUnitApp, type UnitApp } from "../support/unit-app.ts";

const SECRET_A = Buffer.alloc(32, 0xa1);
const SECRET_B = Buffer.alloc(32, 0xb2);

describe("keys derived from FAMOS_SECRET (RFC 5869 HKDF-SHA256, one key per purpose)", () => {
  it("derives each key with HKDF-SHA256, salt 'famos-2fa' and the purpose as info, 32 bytes", () => {
    const keys = deriveKeys(SECRET_A);
    expect(keys.code).toEqual(Buffer.from(hkdfSync("sha256", SECRET_A, "famos-2fa", "otp-code", 32)));
    expect(keys.cookie).toEqual(Buffer.from(hkdfSync("sha256", SECRET_A, "famos-2fa", "cookie-signing", 32)));
    expect(keys.code).toHaveLength(32);
    expect(keys.cookie).toHaveLength(32);
  });

  it("gives each purpose its own key, and the same key for the same secret", () => {
    const keys = deriveKeys(SECRET_A);
    expect(keys.code.equals(keys.cookie)).toBe(false);
    expect(new Set(Object.values(keys).map((key) => key.toString("hex"))).size).toBe(Object.keys(keys).length);
    expect(keys.code.equals(SECRET_A)).toBe(false);
    expect(deriveKeys(Buffer.from(SECRET_A)).code.equals(keys.code)).toBe(true);
  });

  it.each(["code", "cookie", "appCookie"] as const)("changes the %s key with the secret", (purpose) => {
    expect(deriveKeys(SECRET_A)[purpose].equals(deriveKeys(SECRET_B)[purpose])).toBe(false);
  });

  it("makes HMAC-SHA256 in hex", () => {
    expect(hmacHex(SECRET_A, "flow:123456")).toBe(createHmac("sha256", SECRET_A).update("flow:123456").digest("hex"));
  });
});

// The code key's stored value (codes.code_hash) under two secrets: test/otp/codes.unit.test.ts.
describe("the cookie key: the signed CSRF cookie FAMOS stores in the browser changes with FAMOS_SECRET", () => {
  let a: UnitApp;
  let b: UnitApp;
  beforeAll(async () => {
    a = await createUnitApp();
    b = await createUnitApp({ env: { FAMOS_SECRET: "b".repeat(64) } });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("signs the same value differently under each secret", () => {
    expect(a.app.signCookie("same value")).not.toBe(b.app.signCookie("same value"));
  });

  it("refuses a form whose CSRF cookie was signed under another secret, and accepts it under its own", async () => {
    const client = new FormClient(a.app);
    await client.get("/login");
    const mine = await client.post("/login", { loginId: "nobody", password: "wrong password here" });
    expect(mine.statusCode).toBe(401);
    const elsewhere = new FormClient(b.app);
    for (const [name, value] of client.cookies) elsewhere.cookies.set(name, value);
    elsewhere.csrf = client.csrf;
    const refused = await elsewhere.post("/login", { loginId: "nobody", password: "wrong password here" });
    expect(refused.statusCode).toBe(403);
  });
});
