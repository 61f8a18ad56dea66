// FAMOS_SECTIONS and FAMOS_UPSTREAM_SANDBOX: the protected application's paths and the sandbox its pages run in.
import { list, type Problems } from "./problems.ts";

export interface Section {
  label: string;
  path: string;
  /** The label's language when FAMOS knows it: the built-in labels are the SPEC's English (src/web/language-of-parts.ts). */
  lang?: string;
}

export const DEFAULT_SECTIONS: Section[] = [
  { label: "Quotation", path: "/quotation" },
  { label: "Vehicle", path: "/vehicle" },
  { label: "Customer", path: "/customer" },
  { label: "Customer Assistant", path: "/customer-assistant" },
  { label: "External Links", path: "/external-links" },
];

/**
 * The first path segments of FAMOS's own pages and endpoints (src/web/routes): a section there
 * would take their address (Fastify refused to start, with a stack trace). The malformed-values test
 * checks this list against the routes the application registers.
 */
export const OWN_PATHS: readonly string[] = [
  "static", "login", "logout", "enrol", "otp", "wrong-email", "notices", "legal", "profile", "support", "choose-password",
  "factor-setup", "forgot-password", "rollout", "healthz", "readyz", "metrics", "auth", "hooks", "dev",
];

export function parseSections(raw: string, problems: Problems): Section[] {
  const sections: Section[] = [];
  for (const item of list(raw)) {
    const [labelPart, pathPart] = item.includes("=") ? item.split("=", 2) : [undefined, item];
    const path = pathPart!.trim();
    if (!/^\/[a-z0-9][a-z0-9/_-]*$/i.test(path) || path.endsWith("/")) {
      problems.add("FAMOS_SECTIONS", `"${item}" must be a path such as /quotation or Label=/path`);
      continue;
    }
    if (OWN_PATHS.includes(path.split("/")[1]!.toLowerCase())) {
      problems.add("FAMOS_SECTIONS", `"${path}" is an address of FAMOS's own (${OWN_PATHS.map((p) => `/${p}`).join(", ")}); choose another path`);
      continue;
    }
    if (sections.some((s) => s.path === path)) {
      problems.add("FAMOS_SECTIONS", `"${path}" is listed twice`);
      continue;
    }
    const known = DEFAULT_SECTIONS.find((s) => s.path === path);
    const label = labelPart?.trim();
    sections.push(label ? { label, path } : known ? { label: known.label, path, lang: "en-GB" } : { label: path.slice(1), path });
  }
  return sections;
}

/**
 * HTML's iframe sandbox keywords (HTML "sandboxing flag set"), as the CSP `sandbox` directive takes
 * them. The default lets the application's scripts, forms, pop-ups, dialogs and downloads work, in
 * an opaque origin: without allow-same-origin, which would hand them FAMOS's origin again.
 */
export const SANDBOX_KEYWORDS = [
  "allow-downloads", "allow-forms", "allow-modals", "allow-orientation-lock", "allow-pointer-lock", "allow-popups",
  "allow-popups-to-escape-sandbox", "allow-presentation", "allow-same-origin", "allow-scripts",
  "allow-storage-access-by-user-activation", "allow-top-navigation", "allow-top-navigation-by-user-activation",
  "allow-top-navigation-to-custom-protocols",
] as const;
export const DEFAULT_UPSTREAM_SANDBOX = "allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads";

export function parseSandbox(raw: string, problems: Problems): string[] {
  const tokens = raw.split(/[\s,]+/).filter((t) => t.length > 0);
  if (raw.toLowerCase() === "none") return [];
  for (const token of tokens) {
    if (!(SANDBOX_KEYWORDS as readonly string[]).includes(token)) {
      problems.add("FAMOS_UPSTREAM_SANDBOX", `"${token}" is not a sandbox keyword (${SANDBOX_KEYWORDS.join(", ")}; or none)`);
    }
  }
  return tokens;
}
