/**
 * Reading callgrind's output (`--separate-threads=yes`: one file per thread and dump) for
 * bench/instructions.ts: each thread's instructions (Ir), and each function's own (self) instructions,
 * put in parts by the object and name callgrind gives it (SQLite, V8's builtins, its collector, libuv,
 * OpenSSL, zlib, glibc…). Code V8 compiled at run time has no symbol: callgrind names it by address, and
 * with `--perf-basic-prof` Node writes /tmp/perf-<pid>.map, which names those addresses.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export interface ThreadCounts {
  /** 1 is the main thread (the event loop). */
  thread: number;
  ir: number;
  /** Self instructions by `object\tfunction`. */
  self: Map<string, number>;
}

/** The files of one dump: `<prefix>.<dump>-<thread>` as callgrind names them with `%p` in the out file. */
export function dumpFiles(prefix: string, dump: number): string[] {
  const dir = dirname(prefix);
  const start = `${basename(prefix)}.${dump}-`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(start))
    .map((f) => join(dir, f));
}

/** One callgrind file: its total and its functions' self cost (name compression and call lines handled). */
export function readCallgrind(path: string): ThreadCounts {
  const text = readFileSync(path, "utf8");
  const thread = Number(/^thread: (\d+)$/m.exec(text)?.[1] ?? /-(\d+)$/.exec(path)?.[1] ?? 0);
  const names = { ob: new Map<string, string>(), fn: new Map<string, string>() };
  const named = (kind: "ob" | "fn", value: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(value);
    if (!m) return value;
    if (m[2] !== undefined) names[kind].set(m[1]!, m[2]);
    return names[kind].get(m[1]!) ?? value;
  };
  const self = new Map<string, number>();
  let ob = "???";
  let fn = "???";
  let skipNext = false;
  let ir = 0;
  for (const line of text.split("\n")) {
    const c = line.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      if (skipNext) {
        skipNext = false;
        continue;
      }
      const cost = Number(line.slice(line.indexOf(" ") + 1).split(" ")[0]);
      if (!Number.isFinite(cost)) continue;
      ir += cost;
      const key = `${ob}\t${fn}`;
      self.set(key, (self.get(key) ?? 0) + cost);
    } else if (line.startsWith("ob=")) ob = named("ob", line.slice(3));
    else if (line.startsWith("fn=")) fn = named("fn", line.slice(3));
    else if (line.startsWith("cob=")) named("ob", line.slice(4));
    else if (line.startsWith("cfn=")) named("fn", line.slice(4));
    else if (line.startsWith("calls=")) skipNext = true;
  }
  return { thread, ir, self };
}

/** JIT code's names from Node's `--perf-basic-prof` map: sorted starts, sizes and names. */
export class PerfMap {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly names: string[] = [];

  constructor(pid: number) {
    const path = `/tmp/perf-${pid}.map`;
    if (!existsSync(path)) return;
    const rows = readFileSync(path, "utf8")
      .split("\n")
      .map((l) => /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[3]!] as const)
      .sort((a, b) => a[0] - b[0]);
    for (const [start, size, name] of rows) {
      this.starts.push(start);
      this.ends.push(start + size);
      this.names.push(name);
    }
  }

  /** The name of the code at `address` (the last entry written for it wins, as code moves), else null. */
  name(address: number): string | null {
    let lo = 0;
    let hi = this.starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= address) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at >= 0 && address < this.ends[at]! ? this.names[at]! : null;
  }
}

const OPENSSL = /^(EVP_|HMAC|SHA\d|sha\d|ossl_|OPENSSL_|CRYPTO_|RAND_|BN_|bn_|ec_|ecp_|aes|ERR_|OBJ_|evp_|hmac_|md_|drbg|ctr_|x25519|chacha|poly1305|BIO_|ASN1_|EC_|X509|SSL_|ssl_|tls_)/;
const ZLIB = /^(deflate|inflate|crc32|adler32|zcalloc|zcfree|_tr_|longest_match|fill_window|compress_block|build_tree|send_tree|updatewindow|inflate_fast)/;

/** The part a function belongs to, by its object and name (`jit`: the perf map, for code without a symbol). */
export function partOf(ob: string, fn: string, jit: PerfMap | null): { part: string; name: string } {
  const obj = basename(ob);
  if (/better_sqlite3/.test(obj)) return { part: fn.startsWith("sqlite3") ? "SQLite" : "better-sqlite3 (binding)", name: fn };
  if (/argon2/.test(obj)) return { part: "argon2", name: fn };
  if (/^libc[.-]/.test(obj)) return { part: /malloc|free|realloc|calloc|_int_|arena|tcache|brk/.test(fn) ? "glibc malloc/free" : "glibc (memcpy, strings, syscalls…)", name: fn };
  if (/^0x[0-9a-f]+$/i.test(fn) || obj === "???") {
    const name = jit?.name(parseInt(fn, 16)) ?? null;
    if (name === null) return { part: "JIT code (no name)", name: fn };
    if (/^Builtin:|^BytecodeHandler:/.test(name)) return { part: "V8 builtins", name };
    return { part: /node_modules|node:/.test(name) ? "JIT code: packages and Node's lib" : "JIT code: the server's own", name };
  }
  if (!/node$|^node/.test(obj)) return { part: `other (${obj})`, name: fn };
  if (fn.startsWith("Builtins_")) return { part: "V8 builtins", name: fn };
  if (/v8::internal::(Heap|Scavenger|MarkCompact|Sweeper|Marking|.*Evacuat|.*GC|MinorMarkCompact|ConcurrentMarking|Young|Mark|Incremental|PagedSpace|NewSpace|SemiSpace|LargeObject|MemoryAllocator|ArrayBufferSweeper)/.test(fn)) return { part: "V8 heap and collector", name: fn };
  if (/v8::internal::(compiler|maglev|baseline|Compiler|Turbofan|Optimiz|Interpreter|Parser|Scanner|Parse|Bytecode|AstNode|Deoptimizer)/.test(fn)) return { part: "V8 compiler and parser", name: fn };
  if (/^v8::|v8::internal::/.test(fn)) return { part: "V8 runtime (C++)", name: fn };
  if (/^uv_|^uv__/.test(fn)) return { part: "libuv", name: fn };
  if (OPENSSL.test(fn)) return { part: "OpenSSL", name: fn };
  if (ZLIB.test(fn)) return { part: "zlib", name: fn };
  if (/^llhttp/.test(fn)) return { part: "llhttp", name: fn };
  if (/^simdutf|^ada::/.test(fn)) return { part: "simdutf, ada (URLs)", name: fn };
  if (/node::/.test(fn)) return { part: "Node's C++", name: fn };
  return { part: "node binary, other", name: fn };
}

/** Self instructions by part and by (part, name), summed over the given threads. */
export function byPart(threads: ThreadCounts[], jit: PerfMap | null): { parts: Map<string, number>; functions: Map<string, number> } {
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const t of threads) {
    for (const [key, ir] of t.self) {
      const [ob, full] = key.split("\t") as [string, string];
      // callgrind's "'2" marks a recursion's depth: the same function.
      const fn = full.replace(/'\d+$/, "");
      const { part, name } = partOf(ob, fn, jit);
      parts.set(part, (parts.get(part) ?? 0) + ir);
      const k = `${part}\t${name}`;
      functions.set(k, (functions.get(k) ?? 0) + ir);
    }
  }
  return { parts, functions };
}
