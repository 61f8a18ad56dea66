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
async function planOf(store: Store, node: RootOperationNode, args?: readonly unknown[]): Promise<{ steps: string[]; sql: string } | { root: PgPlanNode }> {
  const compiled = store.db.getExecutor().compileQuery(node, createQueryId());
  const parameters = bound(compiled.parameters, args);
  if (store.dialect === "sqlite") {
    const result = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, parameters));
    return { steps: result.rows.map((r) => r.detail), sql: compiled.sql };
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
 * The names a statement gives `tables`: each table's own, and every alias it is given (`"users" as "u"`,
 * as Kysely writes it, or `users AS u`), since SQLite's plan names an aliased table by its alias (`SCAN u`).
 */
const namesIn = (statement: string, tables: readonly string[]) => [
  ...tables,
  ...tables.flatMap((t) => [...statement.matchAll(new RegExp(`(?:^|[\\s,(])"?${t}"?\\s+as\\s+"?(\\w+)"?`, "gi"))].map((m) => m[1]!)),
];

/**
 * SQLite's steps that read one of `tables` whole: a SCAN, and a SEARCH through an automatic index,
 * which SQLite builds for the one statement from every row of the table when no index serves it.
 */
const sqliteScan = (plan: { steps: string[]; sql: string }, tables: readonly string[]) => {
  const names = namesIn(plan.sql, tables);
  return plan.steps.filter((d) => names.some((t) => new RegExp(`^(SCAN ${t}\\b|SEARCH ${t} USING AUTOMATIC )`).test(d)));
};

/**
 * A PostgreSQL node that reads one of `tables` whole: a sequential scan, an index scan without an index
 * condition, or a bitmap heap scan fed by a bitmap index scan without one (a partial index whose
 * predicate is the statement's WHERE serves it with no condition: every entry of that index is read).
 */
const wholeRead = (n: PgPlanNode, tables: readonly string[]) =>
  n["Relation Name"] !== undefined &&
  tables.includes(n["Relation Name"]) &&
  (n["Node Type"] === "Seq Scan" ||
    (/^Index (Only )?Scan$/.test(n["Node Type"]) && n["Index Cond"] === undefined) ||
    (n["Node Type"] === "Bitmap Heap Scan" && [...pgNodes(n)].some(({ node: c }) => c["Node Type"] === "Bitmap Index Scan" && c["Index Cond"] === undefined)));

/** Every PostgreSQL plan node of a tree, with whether it runs once per row of a nested loop's outer side. */
function* pgNodes(n: PgPlanNode, perRow = false): Generator<{ node: PgPlanNode; perRow: boolean }> {
  yield { node: n, perRow };
  for (const [i, child] of (n.Plans ?? []).entries()) yield* pgNodes(child, perRow || (n["Node Type"] === "Nested Loop" && i === 1));
}

/**
 * The tables among `tables` that a statement reads from end to end: on SQLite a SCAN step of
 * EXPLAIN QUERY PLAN (with or without an index: every row) or a SEARCH through an automatic index
 * (built from every row), the table named by its alias where it has one; on PostgreSQL a sequential
 * scan, an index scan without an index condition or a bitmap scan of a whole partial index (no index
 * condition), with sequential scans priced out (on a small table the
 * planner would rightly scan anyway; with them off it still reads everything when no index can serve
 * the statement, which is what this asks).
 */
export async function fullReads(store: Store, node: RootOperationNode, tables: readonly string[], args?: readonly unknown[]): Promise<string[]> {
  const plan = await planOf(store, node, args);
  if ("steps" in plan) return sqliteScan(plan, tables);
  return [...pgNodes(plan.root)].filter(({ node: n }) => wholeRead(n, tables)).map(({ node: n }) => `${n["Node Type"]} on ${n["Relation Name"]}`);
}

/**
 * The tables among `tables` that a join reads from end to end once per row of another table: on
 * PostgreSQL a whole read on the inner side of a nested loop (a hash or merge join reading a table
 * once is linear); on SQLite, whose joins are all nested loops, any SCAN step of them as in fullReads.
 */
export async function readsPerRow(store: Store, node: RootOperationNode, tables: readonly string[]): Promise<string[]> {
  const plan = await planOf(store, node);
  if ("steps" in plan) return sqliteScan(plan, tables);
  return [...pgNodes(plan.root)].filter(({ node: n, perRow }) => perRow && wholeRead(n, tables)).map(({ node: n }) => `${n["Node Type"]} on ${n["Relation Name"]} per row`);
}

/** A statement's plan as text (SQLite's steps joined by " | ", PostgreSQL's JSON tree), for naming the index it takes. */
export async function planText(store: Store, node: RootOperationNode): Promise<string> {
  const plan = await planOf(store, node);
  return "steps" in plan ? plan.steps.join(" | ") : JSON.stringify(plan.root);
}
