/**
 * Preloaded into the product under flow-cpu.ts to capture the pages the floor serves
 * (bench/lib/floor-pages/, issue 17's thirty-sixth round): the body of the last 200 answer to GET /login,
 * GET /otp and GET /profile, as the socket carried it, so the floor's copy is the product's page at the
 * end of the run (the Profile's sessions list as long as the run left it). Plain JavaScript, like
 * wire-count.mjs, so it loads into a compiled build:
 *
 *   PAGE_CAPTURE_DIR=bench/lib/floor-pages node --import tsx bench/flow-cpu.ts --rate 10 --concurrency 2 \
 *     --rounds 1 --seconds 5 --warm-flows 1000 --build ".::--import=$PWD/bench/lib/page-capture.mjs"
 *
 * At exit it writes login.html, otp.html and profile.html there, each with every `_csrf` value replaced
 * by the floor's fixed token (it must be as long: the floor would otherwise write other byte counts) and,
 * in the profile, the signed-in login ID by `{{login}}` where the floor puts each user's own. It only
 * observes: every call goes on to Node's own function. The code mail (code-mail.eml) is not captured here.
 */
import { Buffer } from "node:buffer";
import { writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";

const FLOOR_TOKEN = "FLOOR-fixed-csrf-token-of-the-products-length-52-chr";
const PAGES = { "/login": "login.html", "/otp": "otp.html", "/profile": "profile.html" };
const chunks = new WeakMap();
const last = new Map();
const toBuffer = (chunk, encoding) => (typeof chunk === "string" ? Buffer.from(chunk, encoding) : Buffer.from(chunk));

const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
  const res = this._httpMessage;
  if (res?.req?.method === "GET" && PAGES[res.req.url.split("?")[0]]) {
    const list = chunks.get(res) ?? [];
    if (writev) for (const d of data) list.push(toBuffer(d.chunk, d.encoding));
    else list.push(toBuffer(data, encoding));
    chunks.set(res, list);
  }
  return writeGeneric.call(this, writev, data, encoding, cb);
};

const emit = http.ServerResponse.prototype.emit;
http.ServerResponse.prototype.emit = function (event, ...args) {
  if (event === "finish" && this.statusCode === 200 && chunks.has(this)) {
    const wire = Buffer.concat(chunks.get(this)).toString("utf8");
    if (/transfer-encoding: chunked/i.test(this._header ?? "")) throw new Error("page-capture: a chunked answer; the capture reads only Content-Length bodies");
    last.set(this.req.url.split("?")[0], wire.slice(wire.indexOf("\r\n\r\n") + 4));
  }
  return emit.call(this, event, ...args);
};

process.on("exit", () => {
  const dir = process.env.PAGE_CAPTURE_DIR;
  if (!dir) return;
  for (const [path, body] of last) {
    let page = body.replace(/(name="_csrf" value=")([^"]*)"/g, (_m, head, token) => {
      if (token.length !== FLOOR_TOKEN.length) throw new Error(`page-capture: a _csrf token of ${token.length} characters, the floor's has ${FLOOR_TOKEN.length}`);
      return `${head}${FLOOR_TOKEN}"`;
    });
    if (path === "/profile") {
      const login = /<dt>[^<]*<\/dt><dd>([^<]+)<\/dd>/.exec(page)?.[1];
      if (!login) throw new Error("page-capture: no login ID on the profile");
      page = page.replace(new RegExp(`${login.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![0-9A-Za-z])`, "g"), "{{login}}");
    }
    writeFileSync(join(dir, PAGES[path]), page);
  }
});
