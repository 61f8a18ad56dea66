import { describe, expect, it } from "vitest";
import { relayedHeaders } from "../../src/web/relayed-headers.ts";

describe("the application's answer headers as FAMOS relays them (relayedHeaders)", () => {
  it("drops the connection's own fields and those its Connection field names (RFC 9110 §7.6.1), keeping the rest", () => {
    const headers = {
      connection: "keep-alive, X-Internal-Hop",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      trailer: "x-checksum",
      upgrade: "h2c",
      te: "trailers",
      "proxy-connection": "keep-alive",
      "x-internal-hop": "1",
      "content-type": "text/html",
      "set-cookie": ["a=1", "b=2"],
    };
    expect(relayedHeaders(headers, "")).toEqual({ "content-type": "text/html", "set-cookie": ["a=1", "b=2"] });
  });

  it("drops each of the connection's own fields by its name alone, when no Connection field names it", () => {
    for (const name of ["connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]) {
      expect(relayedHeaders({ [name]: "x", "content-type": "text/html" }, ""), name).toEqual({ "content-type": "text/html" });
    }
  });

  it("reads a Connection field given twice (undici gives it as an array)", () => {
    expect(relayedHeaders({ connection: ["close", "x-a"] as unknown as string, "x-a": "1", "x-b": "2" }, "")).toEqual({ "x-b": "2" });
  });

  it("moves a Location under the upstream URL's path to FAMOS's path, each of several, and only those", () => {
    expect(relayedHeaders({ location: "/app/quotation/42" }, "/app").location).toBe("/quotation/42");
    expect(relayedHeaders({ location: "/app" }, "/app").location).toBe("/");
    expect(relayedHeaders({ location: ["/app/a", "/app/b"] as unknown as string }, "/app").location).toEqual(["/a", "/b"]);
    for (const elsewhere of ["/application/x", "https://app.example/app/x", "/other/app/x", "app/x"]) {
      expect(relayedHeaders({ location: elsewhere }, "/app").location).toBe(elsewhere);
    }
  });

  it("leaves Location as it is when the upstream URL has no path", () => {
    expect(relayedHeaders({ location: "/quotation/42" }, "").location).toBe("/quotation/42");
    expect(relayedHeaders({ location: ["/a", "/b"] as unknown as string }, "").location).toEqual(["/a", "/b"]);
  });
});
