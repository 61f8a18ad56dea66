import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, UnknownRow } from "kysely";

/**
 * A plugin that calls `meanwhile` once, after the first result whose first row has every one of
 * `columns` (a pass's batch read): another instance's write at a race's worst moment, made certain.
 */
export function afterFirstResult(columns: readonly string[], meanwhile: () => Promise<unknown>): KyselyPlugin {
  let done = false;
  return {
    transformQuery: (args: PluginTransformQueryArgs) => args.node,
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const row = args.result.rows[0];
      if (!done && row && columns.every((c) => c in row)) {
        done = true;
        await meanwhile();
      }
      return args.result;
    },
  };
}
