import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/app/metrics.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { codeOf, readDoc, section } from "../support/markdown.ts";

/**
 * README's `GET /metrics` entry (under "Health, metrics, logs, shutdown") is the catalogue operators
 * build dashboards and alerts from: it must name every metric FAMOS registers, with its labels, and
 * nothing that is not one. Elsewhere in README and in SECURITY.md a `famos_…` name is presented as a
 * metric when it carries labels (`{reason}`, `{status="503"}`) or a Prometheus suffix (`_total`,
 * `_seconds`, `_count`, …); cookies (`famos_session`), SQL functions (`famos_audit_scrub`) and prefixes
 * (`famos_*`) carry neither. Those must exist too, with labels the metric has.
 *
 * The metrics are read off the registry of a complete test app (services, rollout gauges, web layer),
 * not from scraped text, where a labelled metric shows no line until it is first observed.
 */

interface RegisteredMetric {
  name: string;
  type: string;
  labelNames: readonly string[];
}

/** One `famos_…` written in a document's code, with the label names it shows (null: none shown) and whether it gives values. */
interface MetricMention {
  name: string;
  labels: string[] | null;
  selector: boolean;
  text: string;
}

/** prom-client's defaults (`collectDefaultMetrics` with the prefix famos_), which README names as families. */
const DEFAULT_FAMILIES = ["famos_process_", "famos_nodejs_"];
const SUFFIXES = /_(total|seconds|count|sum|bucket|bytes)$/;
/** A histogram's series: `_count`, `_sum`, and `_bucket` with its `le` label. */
const HISTOGRAM_SERIES = /_(count|sum|bucket)$/;

function mentionsIn(markdown: string): MetricMention[] {
  const mentions: MetricMention[] = [];
  for (const code of codeOf(markdown)) {
    for (const found of code.matchAll(/(?<![\w$@./-])(famos_[a-z0-9_]*(?:[a-z0-9]|_\*))(?:\{([^}]*)\})?/g)) {
      const pairs = found[2]?.split(",").map((pair) => pair.trim()) ?? null;
      mentions.push({
        name: found[1]!,
        labels: pairs?.map((pair) => pair.split("=")[0]!) ?? null,
        selector: pairs?.some((pair) => pair.includes("=")) ?? false,
        text: found[0],
      });
    }
  }
  return mentions;
}

function catalogue(): MetricMention[] {
  const health = section(readDoc("README.md"), "Health, metrics, logs, shutdown");
  const entry = /^- `GET \/metrics`[\s\S]*?(?=^- )/m.exec(health);
  if (!entry) throw new Error("README: no `GET /metrics` entry under Health, metrics, logs, shutdown");
  return mentionsIn(entry[0]);
}

let t: TestApp;
let registered: RegisteredMetric[];
let defaults: string[];
beforeAll(async () => {
  t = await createTestApp();
  registered = t.deps.metrics.registry.getMetricsAsArray() as unknown as RegisteredMetric[];
  // The test app leaves prom-client's defaults out; `famos serve` has them (createServices without a clock).
  const own = new Set(createMetrics().registry.getMetricsAsArray().map((m) => m.name));
  defaults = createMetrics(undefined, true)
    .registry.getMetricsAsArray()
    .map((m) => m.name)
    .filter((name) => !own.has(name));
});
afterAll(async () => t?.close());

/** The metric a name written in a document stands for (a histogram's `_count` stands for the histogram), if any. */
function metricNamed(name: string): RegisteredMetric | undefined {
  return registered.find((m) => m.name === name) ?? registered.find((m) => m.type === "histogram" && m.name === name.replace(HISTOGRAM_SERIES, ""));
}

/** What is wrong with a mention presented as a metric: no such metric, or labels it does not have. */
function problemsOf(mention: MetricMention): string[] {
  if (mention.name.endsWith("_*")) {
    const family = mention.name.slice(0, -1);
    return DEFAULT_FAMILIES.includes(family) && defaults.some((name) => name.startsWith(family)) ? [] : [`${mention.text}: no such family of metrics`];
  }
  const metric = metricNamed(mention.name);
  if (!metric) return [`${mention.text}: FAMOS registers no such metric`];
  if (!mention.labels) return [];
  const labelNames = mention.name.endsWith("_bucket") ? [...metric.labelNames, "le"] : metric.labelNames;
  const unknown = mention.labels.filter((label) => !labelNames.includes(label));
  if (unknown.length > 0) return [`${mention.text}: ${metric.name} has no label ${unknown.join(", ")} (its labels: ${labelNames.join(", ") || "none"})`];
  // Label names without values list the metric's labels: all of them. A selector may pick some.
  if (!mention.selector && mention.labels.length !== labelNames.length) return [`${mention.text}: ${metric.name}'s labels are {${labelNames.join(",")}}`];
  return [];
}

describe("README's metrics catalogue (the `GET /metrics` entry)", () => {
  it("is found, with the metrics it names", () => {
    expect(catalogue().map((m) => m.name)).toEqual(expect.arrayContaining(["famos_code_to_smtp_seconds", "famos_after_reply_failures_total"]));
  });

  it("names every metric FAMOS registers, with all its labels", () => {
    expect(registered.length).toBeGreaterThan(15);
    const listed = catalogue();
    const missing = registered
      .filter((metric) => !listed.some((m) => m.name === metric.name && (metric.labelNames.length === 0 || m.labels !== null)))
      .map((metric) => (metric.labelNames.length ? `${metric.name}{${metric.labelNames.join(",")}}` : metric.name));
    expect(missing).toEqual([]);
  });

  it("names prom-client's defaults as the families famos_process_* and famos_nodejs_*, which hold all of them", () => {
    expect(defaults.length).toBeGreaterThan(5);
    expect(defaults.filter((name) => !DEFAULT_FAMILIES.some((family) => name.startsWith(family)))).toEqual([]);
    expect(catalogue().filter((m) => m.name.endsWith("_*")).map((m) => m.name)).toEqual(DEFAULT_FAMILIES.map((family) => `${family}*`));
  });

  it("names only metrics that exist, with labels they have", () => {
    expect(catalogue().flatMap(problemsOf)).toEqual([]);
  });
});

describe.each(["README.md", "SECURITY.md"] as const)("every metric %s names elsewhere", (doc) => {
  const presented = () => mentionsIn(readDoc(doc)).filter((m) => m.labels !== null || SUFFIXES.test(m.name));

  it("is found in its code", () => {
    expect(presented().length).toBeGreaterThan(doc === "README.md" ? 20 : 3);
  });

  it("exists, with labels it has", () => {
    expect(presented().flatMap(problemsOf)).toEqual([]);
  });
});
