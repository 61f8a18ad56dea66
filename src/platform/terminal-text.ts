/**
 * Text for an operator's terminal: C0 and C1 control characters and DEL are shown escaped (`\u001b`),
 * never sent raw. An ESC or CSI (U+009B) in a login ID, a file name or a stored name would otherwise
 * recolour, move or clear what the operator reads (CWE-150), and a line break would forge a line of
 * output. One home for every command and every message the command line prints.
 */
export function terminalText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * One JSON text for standard output (`--json`): JSON.stringify escapes C0 but leaves DEL and C1 raw;
 * these are written as \u escapes too, so a JSON line read on a terminal is as safe as a text line.
 * Still the same JSON (they can only occur inside strings).
 */
export function terminalJson(value: unknown): string {
  return terminalJsonText(JSON.stringify(value));
}

/**
 * JSON text (JSON.stringify's, or a pino log line) with DEL and C1 written as \u escapes: the same JSON.
 * `famos serve`'s log lines go through it (pino's streamWrite hook): a request's Host header, read by
 * Node as Latin-1, turns a byte 0x9B into U+009B, which pino, like JSON.stringify, leaves raw, and a
 * terminal showing the log (`docker logs`, `tail -f`) may take for CSI.
 */
export function terminalJsonText(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
