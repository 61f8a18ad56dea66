import { describe, expect, it } from "vitest";
import { pageRefusal } from "../../src/support/acting.ts";

/**
 * Who reaches a console page (src/support/acting.ts, pageRefusal): support pages for support and
 * administrators, admin pages for administrators, the operator always; the reason says which rule
 * refused (run C11: a user refused a support page was said to be refused as "admin-only").
 */
const MESSAGE = "Your role does not give access to this page.";

describe("pageRefusal", () => {
  it("a support page: support and administrators; a user refused for having no role", () => {
    expect(pageRefusal({ role: "user" }, "support")).toEqual({ kind: "forbidden", reason: "no-role", message: MESSAGE });
    expect(pageRefusal({ role: "support" }, "support")).toBeNull();
    expect(pageRefusal({ role: "admin" }, "support")).toBeNull();
  });

  it("an admin page: administrators only; support and users refused as admin-only", () => {
    expect(pageRefusal({ role: "user" }, "admin")).toEqual({ kind: "forbidden", reason: "admin-only", message: MESSAGE });
    expect(pageRefusal({ role: "support" }, "admin")).toEqual({ kind: "forbidden", reason: "admin-only", message: MESSAGE });
    expect(pageRefusal({ role: "admin" }, "admin")).toBeNull();
  });

  it("the operator (no user): every page", () => {
    expect(pageRefusal(null, "support")).toBeNull();
    expect(pageRefusal(null, "admin")).toBeNull();
  });
});
