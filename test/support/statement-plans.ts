import { CompiledQuery, createQueryId, sql, type KyselyPlugin, type RootOperationNode } from "kysely";
import type { Store } from "../../src/store/database.ts";

/** The statements a piece of work runs through the Kysely instance it is given, as their root nodes. */
export function captureStatements() {
  const nodes: RootOperationNode[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      nodes.push(node);
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { plugin, nodes };
}

interface PgPlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Cond"?: string;
  Plans?: PgPlanNode[];
}

/**
 * The values to bind for a statement captured while a prepared query (src/store/prepared.ts) was first
 * built: its arguments are then stand-ins (a Slot, `{ index }`), and `args` are the call's arguments.
 */
const bound = (parameters: readonly unknown[], args: readonly unknown[] | undefined) =>
  parameters.map((p) => (args && p !== null && typeof p === "object" && p.constructor.name === "Slot" ? args[(p as { index: number }).index] : p));

/** A statement's plan: SQLite's EXPLAIN QUERY PLAN steps, or PostgreSQL's plan tree (EXPLAIN, format json) with sequential scans priced out. */
async function planOf(store: Store, node: RootOperationNode, args?: readonly unknown[]): Promise<{ steps: string[] } | { root: PgPlanNode }> {
  const compiled = store.db.getExecutor().compileQuery(node, createQueryId());
  const parameters = bound(compiled.parameters, args);
  if (store.dialect === "sqlite") {
    const result = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, parameters));
    return { steps: result.rows.map((r) => r.detail) };
  }
  return store.db.connection().execute(async (conn) => {
    await sql`set enable_seqscan = off`.execute(conn);
    try {
      const result = await conn.executeQuery<{ "QUERY PLAN": [{ Plan: PgPlanNode }] }>(CompiledQuery.raw(`explain (format json) ${compiled.sql}`, parameters));
      return { root: result.rows[0]!["QUERY PLAN"][0].Plan };
    } finally {
      await sql`reset enable_seqscan`.execute(conn);
    }
  });
}

/**
 * SQLite's steps that read one of `tables` whole: a SCAN, and a SEARCH through an automatic index,
 * which SQLite builds for the one statement from every row of the table when no index serves it.
 */
const sqliteScan = (steps: string[], tables: readonly string[]) => steps.filter((d) => tables.some((t) => new RegExp(`^(SCAN ${t}\\b|SEARCH ${t} USING AUTOMATIC )`).test(d)));
const wholeRead = (n: PgPlanNode, tables: readonly string[]) =>
  n["Relation Name"] !== undefined && tables.includes(n["Relation Name"]) && (n["Node Type"] === "Seq Scan" || (/^Index (Only )?Scan$/.test(n["Node Type"]) && n["Index Cond"] === undefined));

/** Every PostgreSQL plan node of a tree, with whether it runs once per row of a nested loop's outer side. */
function* pgNodes(n: PgPlanNode, perRow = false): Generator<{ node: PgPlanNode; perRow: boolean }> {
  yield { node: n, perRow };
  for (const [i, child] of (n.Plans ?? []).entries()) yield* pgNodes(child, perRow || (n["Node Type"] === "Nested Loop" && i === 1));
}

/**
 * The tables among `tables` that a statement reads from end to end: on SQLite a SCAN step of
 * EXPLAIN QUERY PLAN (with or without an index: every row) or a SEARCH through an automatic index
 * (built from every row); on PostgreSQL a sequential scan or an
 * index scan without an index condition, with sequential scans priced out (on a small table the
 * planner would rightly scan anyway; with them off it still reads everything when no index can serve
 * the statement, which is what this asks).
 */
export async function fullReads(store: Store, node: RootOperationNode, tables: readonly string[], args?: readonly unknown[]): Promise<string[]> {
  const plan = await planOf(store, node, args);
  if ("steps" in plan) return sqliteScan(plan.steps, tables);
  return [...pgNodes(plan.root)].filter(({ node: n }) => wholeRead(n, tables)).map(({ node: n }) => `${n["Node Type"]} on ${n["Relation Name"]}`);
}

/**
 * The tables among `tables` that a join reads from end to end once per row of another table: on
 * PostgreSQL a whole read on the inner side of a nested loop (a hash or merge join reading a table
 * once is linear); on SQLite, whose joins are all nested loops, any SCAN step of them as in fullReads.
 */
export async function readsPerRow(store: Store, node: RootOperationNode, tables: readonly string[]): Promise<string[]> {
  const plan = await planOf(store, node);
  if ("steps" in plan) return sqliteScan(plan.steps, tables);
  return [...pgNodes(plan.root)].filter(({ node: n, perRow }) => perRow && wholeRead(n, tables)).map(({ node: n }) => `${n["Node Type"]} on ${n["Relation Name"]} per row`);
}

/** A statement's plan as text (SQLite's steps joined by " | ", PostgreSQL's JSON tree), for naming the index it takes. */
export async function planText(store: Store, node: RootOperationNode): Promise<string> {
  const plan = await planOf(store, node);
  return "steps" in plan ? plan.steps.join(" | ") : JSON.stringify(plan.root);
}
