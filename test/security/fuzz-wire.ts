import { connect } from "node:net";

/** One answer as it came off the wire: status 0 when the server closed without one. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/** A request exactly as the bytes go out: any method, any path bytes, headers repeated as given. */
export interface WireRequest {
  method: string;
  /** The request target as sent (latin1: a byte per character, so invalid UTF-8 goes out as it is). */
  target: string;
  headers: Array<[string, string]>;
  body?: Buffer;
}

/**
 * Sends one HTTP/1.1 request over a fresh connection and reads the answer to its end (Connection:
 * close), de-chunked. A raw socket, not fetch: a fuzzer's requests (a header twice, bytes that are no
 * UTF-8, a method no client sends) must reach the server as they are.
 */
export function sendRaw(port: number, request: WireRequest, timeoutMs = 15_000): Promise<WireAnswer> {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, ...request.headers.map(([k, v]) => `${k}: ${v}`), "connection: close"];
  if (request.body) lines.push(`content-length: ${request.body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The server may close as soon as it answered a request it refused before reading its body.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") resolve(parseAnswer(Buffer.concat(chunks), request.method));
      else reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks), request.method));
    });
    socket.write(request.body ? Buffer.concat([head, request.body]) : head);
  });
}

function parseAnswer(raw: Buffer, method: string): WireAnswer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: raw.toString("latin1") };
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0);
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (method === "HEAD") body = Buffer.alloc(0);
  else if (headers["transfer-encoding"]?.some((v) => /chunked/i.test(v))) body = dechunk(body);
  return { status, headers, body: body.toString("utf8") };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
