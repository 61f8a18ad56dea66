import { describe, expect, it } from "vitest";
import { terminalJson, terminalJsonText } from "../../src/platform/terminal-text.ts";

/** `famos serve`'s log lines (pino's JSON) reach the operator's terminal: DEL and C1 go out as \u escapes. */
describe("terminalJsonText", () => {
  it("writes DEL and every C1 control (U+007F–U+009F) as a \\u escape of four lower-case hex digits, the same JSON", () => {
    const line = JSON.stringify({ msg: "request", host: "a\u009b31mb\u007f\u0080\u009f" });
    const shown = terminalJsonText(line);
    expect(shown).toBe('{"msg":"request","host":"a\\u009b31mb\\u007f\\u0080\\u009f"}');
    expect(JSON.parse(shown)).toEqual(JSON.parse(line));
    expect(terminalJson({ host: "\u0085" })).toBe('{"host":"\\u0085"}');
  });

  it("leaves what is around the range as it is: U+007E, U+00A0, é, and text without any", () => {
    const line = '{"a":"~\u00a0é\u0100"}';
    expect(terminalJsonText(line)).toBe(line);
  });
});
