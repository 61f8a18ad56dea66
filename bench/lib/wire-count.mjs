/**
 * Preloaded into a server under test to count what it writes per answer, route by route (issue 17's
 * thirty-fifth round: the product's answers against the floor's). Plain JavaScript, like probe.mjs, so it
 * loads into a compiled build and into the floor alike, e.g.
 *
 *   node --import tsx bench/flow-cpu.ts --rounds 1 --seconds 5 --warm-flows 20 \
 *     --build ".::--import=$PWD/bench/lib/wire-count.mjs" --build "floor::--import=$PWD/bench/lib/wire-count.mjs"
 *
 * At exit it writes `<WIRE_COUNT_DIR or os.tmpdir()>/wire-<pid>.json`: per "METHOD path status", the
 * answers seen, socket writes per answer (a page's header and body in one writev count as one), bytes
 * and header bytes and lines per answer, the writes' shapes ("w" one write, "vN" a writev of N chunks),
 * and one answer's header block. It only observes: every call goes on to Node's own function.
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const stats = new Map();
const counts = new WeakMap();
const chunkBytes = (chunk, encoding) => (typeof chunk === "string" ? Buffer.byteLength(chunk, encoding) : chunk.length);

const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
  const res = this._httpMessage;
  if (res?.req) {
    const c = counts.get(res) ?? { writes: 0, bytes: 0, shape: "" };
    c.writes += 1;
    c.bytes += writev ? data.reduce((sum, d) => sum + chunkBytes(d.chunk, d.encoding), 0) : chunkBytes(data, encoding);
    c.shape += writev ? `v${data.length} ` : "w ";
    counts.set(res, c);
  }
  return writeGeneric.call(this, writev, data, encoding, cb);
};

const emit = http.ServerResponse.prototype.emit;
http.ServerResponse.prototype.emit = function (event, ...args) {
  if (event === "finish" && this.req) {
    const key = `${this.req.method} ${this.req.url.split("?")[0]} ${this.statusCode}`;
    const header = this._header ?? "";
    const c = counts.get(this) ?? { writes: 0, bytes: 0, shape: "" };
    const e = stats.get(key) ?? { answers: 0, writes: 0, bytes: 0, headerBytes: 0, headerLines: 0, shapes: {}, header };
    e.answers += 1;
    e.writes += c.writes;
    e.bytes += c.bytes;
    e.headerBytes += header.length;
    // The status line and the blank line that ends the block are not header lines.
    e.headerLines += Math.max(0, header.split("\r\n").length - 3);
    e.shapes[c.shape.trim()] = (e.shapes[c.shape.trim()] ?? 0) + 1;
    stats.set(key, e);
  }
  return emit.call(this, event, ...args);
};

process.on("exit", () => {
  const out = {};
  for (const [key, e] of stats) {
    out[key] = { answers: e.answers, writesPerAnswer: e.writes / e.answers, bytesPerAnswer: e.bytes / e.answers, headerBytesPerAnswer: e.headerBytes / e.answers, headerLinesPerAnswer: e.headerLines / e.answers, shapes: e.shapes, header: e.header };
  }
  writeFileSync(join(process.env.WIRE_COUNT_DIR ?? tmpdir(), `wire-${process.pid}.json`), JSON.stringify(out, null, 1));
});
