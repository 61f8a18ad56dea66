import { describe, expect, it } from "vitest";
import { fittedCloseReason, MAX_CLOSE_REASON_BYTES, proxiedWebSocketFailure } from "../../src/web/proxied-websocket.ts";

describe("a close reason the proxy gives the browser's WebSocket (fittedCloseReason)", () => {
  it("stays as it is when a close frame can carry it", () => {
    expect(fittedCloseReason("unexpected response")).toBe("unexpected response");
    const full = "x".repeat(MAX_CLOSE_REASON_BYTES);
    expect(fittedCloseReason(full)).toBe(full);
  });

  it("is cut to 123 bytes (RFC 6455 §5.5), at the start of a UTF-8 character", () => {
    expect(fittedCloseReason("y".repeat(500))).toBe("y".repeat(MAX_CLOSE_REASON_BYTES));
    // 61 two-byte characters are 122 bytes; the 62nd would end at byte 124, so it goes whole.
    const cut = fittedCloseReason("é".repeat(100)) as string;
    expect(cut).toBe("é".repeat(61));
    expect(Buffer.byteLength(cut)).toBe(122);
    expect(Buffer.byteLength(fittedCloseReason(Buffer.from("€".repeat(60))))).toBe(123);
  });
});

describe("a close of the browser's WebSocket that reports a failure of FAMOS's side (proxiedWebSocketFailure)", () => {
  it("is the proxy's 1011 with an error message as a string: that message is the failure", () => {
    expect(proxiedWebSocketFailure(1011, "connect ECONNREFUSED 10.20.30.40:8443")).toBe("connect ECONNREFUSED 10.20.30.40:8443");
    expect(proxiedWebSocketFailure(1011, "unexpected response")).toBe("unexpected response");
  });

  it("is not the application's own close frame (its reason comes as bytes, 1011 too), nor FAMOS's own closes", () => {
    expect(proxiedWebSocketFailure(1011, Buffer.from("the application's own words"))).toBeNull();
    expect(proxiedWebSocketFailure(1000, "bye")).toBeNull();
    expect(proxiedWebSocketFailure(4401, "session ended")).toBeNull();
    expect(proxiedWebSocketFailure(1009, "message too big")).toBeNull();
    expect(proxiedWebSocketFailure(1011, undefined)).toBeNull();
    expect(proxiedWebSocketFailure(undefined, undefined)).toBeNull();
  });
});
