/**
 * A strict RFC 4180 reader for the user import file. Each record carries the physical line it
 * starts on, so a refused row can be named the way an editor shows it. A record that breaks the
 * format becomes an error record and reading goes on at the next line: one bad row costs that row,
 * not the file.
 *
 * Accepted beyond the letter of RFC 4180 (what spreadsheets actually write): LF or lone CR as well
 * as CRLF between records, a UTF-8 byte order mark before the header, blank lines (skipped), and
 * no line break after the last record.
 */
export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

const QUOTE = 34; // "
const COMMA = 44;
const LF = 10;
const CR = 13;

export function parseCsv(input: string): CsvRecord[] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const reader = new Reader(text);
  const records: CsvRecord[] = [];
  while (!reader.atEnd()) {
    const record = reader.record();
    const blank = "fields" in record && record.fields.length === 1 && record.fields[0]!.trim() === "";
    if (!blank) records.push(record);
  }
  return records;
}

class Reader {
  private index = 0;
  private line = 1;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.index >= this.text.length;
  }

  /** Reads one record and the line break after it. */
  record(): CsvRecord {
    const start = this.line;
    const fields: string[] = [];
    for (;;) {
      const field = this.text.charCodeAt(this.index) === QUOTE ? this.quoted(start) : this.unquoted();
      if (typeof field !== "string") return { line: start, error: field.error };
      fields.push(field);
      const next = this.text.charCodeAt(this.index);
      if (next === COMMA) {
        this.index += 1;
        continue;
      }
      if (this.atEnd() || this.lineBreak()) return { line: start, fields };
      this.skipLine();
      return { line: start, error: "text after a closing quote: a quoted field must end at a comma or the end of the line" };
    }
  }

  /** RFC 4180 §2.5–2.7: inside quotes, commas and line breaks are data and "" is one quote. */
  private quoted(start: number): string | { error: string } {
    let value = "";
    let from = this.index + 1;
    for (;;) {
      const close = this.text.indexOf('"', from);
      if (close === -1) {
        const last = this.line + countLineBreaks(this.text.slice(from));
        this.index = this.text.length;
        return { error: `a quoted field opened on line ${start} is never closed, so lines ${start} to ${last} were not read` };
      }
      const chunk = this.text.slice(from, close);
      this.line += countLineBreaks(chunk);
      value += chunk;
      if (this.text.charCodeAt(close + 1) === QUOTE) {
        value += '"';
        from = close + 2;
        continue;
      }
      this.index = close + 1;
      return value;
    }
  }

  /** RFC 4180 §2.5: a field that is not quoted may not contain a quote. */
  private unquoted(): string | { error: string } {
    const from = this.index;
    let at = from;
    for (; at < this.text.length; at += 1) {
      const c = this.text.charCodeAt(at);
      if (c === COMMA || c === LF || c === CR) break;
      if (c === QUOTE) {
        this.index = at;
        this.skipLine();
        return { error: 'a quote (") inside a field that does not start with one: quote the whole field and double the quote ("")' };
      }
    }
    this.index = at;
    return this.text.slice(from, at);
  }

  /** Consumes CRLF, LF or CR; false when the next character is none of them. */
  private lineBreak(): boolean {
    const c = this.text.charCodeAt(this.index);
    if (c === CR) {
      this.index += this.text.charCodeAt(this.index + 1) === LF ? 2 : 1;
    } else if (c === LF) {
      this.index += 1;
    } else {
      return false;
    }
    this.line += 1;
    return true;
  }

  /** After an error: drops the rest of the physical line so reading resumes at the next one. */
  private skipLine(): void {
    while (!this.atEnd() && !this.lineBreak()) this.index += 1;
  }
}

function countLineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}
