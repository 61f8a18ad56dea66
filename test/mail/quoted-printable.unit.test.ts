import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { keepFixedParts, quotedPrintable, quotedPrintableWhole } from "../../src/mail/quoted-printable.ts";
import { composeMessage } from "../../src/mail/transport.ts";
import { TEMPLATES } from "../support/mail-templates.ts";

const SENT = Date.UTC(2026, 10, 28, 14, 0, 0);

/** What a reader decodes: mailparser, on a one-part message carrying the encoded body. */
async function decoded(encoded: string): Promise<string> {
  const parsed = await simpleParser(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${encoded}`);
  return parsed.text ?? "";
}

/** RFC 2045 §6.7 as a reader checks it: line lengths, what may stand literally, whole =XX escapes, no lone CR or LF. */
function expectWellFormed(encoded: string): void {
  expect(encoded).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  for (const line of encoded.split("\r\n")) {
    expect(line.length, line).toBeLessThanOrEqual(76);
    expect(line, line).toMatch(/^(?:[\t\x20-\x3c\x3e-\x7e]|=[0-9A-F]{2})*=?$/);
    // Whitespace is never the last character of a line (a relay may strip it).
    expect(line, line).not.toMatch(/[ \t]$/);
  }
}

/** A seeded generator, so a failure is reproducible. */
function randomText(seed: number, length: number): string {
  const pieces = ["a", "Z", " ", "\t", "=", "\n", "\r\n", "\r", "ü", "é", "ß", "€", "—", "一", "😀", "\u0000", "\u007f", "\u2028", ".", "=3D", "  ", "\t\n", " \r\n", "\ud800"];
  let state = seed;
  let text = "";
  while (text.length < length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    text += pieces[state % pieces.length]!;
  }
  return text;
}

describe("quotedPrintable: a body as quoted-printable UTF-8 in one pass", () => {
  it("writes printable ASCII as is, '=' as =3D, line breaks (LF or CRLF) as CRLF", () => {
    expect(quotedPrintable("Code: 12 = ok?\nnext\r\nlast")).toBe("Code: 12 =3D ok?\r\nnext\r\nlast");
  });

  it("encodes a space or tab before a line break or at the end, not elsewhere", () => {
    expect(quotedPrintable("a b \nc\t\r\nd ")).toBe("a b=20\r\nc=09\r\nd=20");
  });

  it("encodes every byte of a non-ASCII character, a control character and a lone CR", () => {
    expect(quotedPrintable("für €\u0000\r!")).toBe("f=C3=BCr =E2=82=AC=00=0D!");
  });

  it("breaks lines softly before 76 characters, never inside an =XX escape or a character's bytes", () => {
    const encoded = quotedPrintable(`${"x".repeat(74)}ü${"y".repeat(200)}😀${"=".repeat(40)}`);
    expectWellFormed(encoded);
    expect(encoded.split("\r\n")[0]).toBe(`${"x".repeat(74)}=`);
    expect(encoded.split("\r\n")[1]!.startsWith("=C3=BC")).toBe(true);
    expect(encoded).toContain("=F0=9F=98=80");
    expect(encoded).not.toMatch(/=F0=9F=\r\n/);
  });

  it("reads back, through mailparser, as the body it encoded (random bodies of every awkward piece)", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const body = randomText(seed, 50 + seed * 37);
      const encoded = quotedPrintable(body);
      expectWellFormed(encoded);
      // A lone surrogate is not text: UTF-8 carries it as U+FFFD, as Buffer.from (and nodemailer) did.
      const expected = Buffer.from(body.replace(/\r\n/g, "\n"), "utf8").toString("utf8");
      expect(await decoded(encoded), `seed ${seed}`).toBe(expected.replace(/\n$/, "").replace(/\r\n/g, "\n"));
    }
  });
});

describe("quotedPrintable around the templates' fixed parts, encoded once (issue 17)", () => {
  it("writes every template's parts exactly as the body encoded in one piece", () => {
    // TEMPLATES rendered the code mails, whose frames registered their heads and tails.
    for (const { name, message: m } of TEMPLATES) {
      for (const body of [m.text_body, m.html_body]) expect(quotedPrintable(body), name).toBe(quotedPrintableWhole(body));
    }
  });

  it("writes any body exactly as in one piece, whatever parts are kept (random heads, middles and tails)", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const head = randomText(seed * 3, 20 + seed * 5);
      const tail = `${seed % 2 ? "\n" : "\r\n"}${randomText(seed * 3 + 1, 10 + seed * 3)}`;
      keepFixedParts({ head, tail });
      for (const middle of ["", "\r", " ", "x", randomText(seed * 3 + 2, seed * 7)]) {
        for (const body of [head + middle + tail, head + middle, middle + tail, head.slice(0, -1) + tail]) {
          const encoded = quotedPrintable(body);
          expect(encoded, JSON.stringify(body)).toBe(quotedPrintableWhole(body));
          expectWellFormed(encoded);
        }
      }
    }
  });
});

describe("composeMessage writes each part with quotedPrintable", () => {
  for (const { name, message: m } of TEMPLATES) {
    it(`${name}: the text and HTML parts are quotedPrintable(body), well formed`, () => {
      const raw = composeMessage(m, "FAMOS <noreply@famos.test>", new Date(SENT))!;
      for (const [type, body] of [["text/plain", m.text_body], ["text/html", m.html_body]] as const) {
        const part = `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
        const at = raw.indexOf(part) + part.length;
        const encoded = raw.slice(at, raw.indexOf("\r\n--", at));
        expect(encoded).toBe(quotedPrintable(body));
        expectWellFormed(encoded);
      }
      for (const line of raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    });
  }
});
