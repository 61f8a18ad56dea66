import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, RFC 1035 §4): answers TXT and SOA questions
 * from the maps it is given and NXDOMAIN for every other name, so `famos mail check` can be tested
 * on a machine whose DNS cannot see the internet.
 */
export interface TestDnsServer {
  /** "127.0.0.1:<port>", for Resolver.setServers or --dns-server. */
  address: string;
  stop(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const labels = name.split(".").filter((l) => l.length > 0);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

function record(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function txtData(text: string): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length || i === 0; i += 255) {
    const part = Buffer.from(text.slice(i, i + 255), "ascii");
    chunks.push(Buffer.from([part.length]), part);
  }
  return Buffer.concat(chunks);
}

function soaData(zone: string): Buffer {
  const numbers = Buffer.alloc(20);
  [1, 3600, 600, 86400, 60].forEach((n, i) => numbers.writeUInt32BE(n, i * 4));
  return Buffer.concat([encodeName(`ns.${zone}`), encodeName(`hostmaster.${zone}`), numbers]);
}

export async function startDnsServer(zones: { txt: Record<string, string[]>; soa: string[] }): Promise<TestDnsServer> {
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    if (query.length < 17) return;
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset]! > 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]!).toString("ascii"));
      offset += query[offset]! + 1;
    }
    const questionEnd = offset + 5;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join(".").toLowerCase();
    const answers: Buffer[] = [];
    if (type === 16) for (const text of zones.txt[name] ?? []) answers.push(record(16, txtData(text)));
    if (type === 6 && zones.soa.includes(name)) answers.push(record(6, soaData(name)));
    const known = name in zones.txt || zones.soa.includes(name);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address() as AddressInfo;
  return { address: `127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}

/** A loopback UDP port where nothing listens: questions sent there are refused at once. */
export async function closedDnsAddress(): Promise<string> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address() as AddressInfo;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
