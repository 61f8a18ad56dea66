import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
import type pg from "pg";

/**
 * node-postgres's settings that bound every statement of `famos serve` on PostgreSQL to `ms`: the
 * server cancels a statement that runs longer (statement_timeout: a lock held elsewhere, a stuck
 * plan) and ends a transaction left idle longer (idle_in_transaction_session_timeout: its client is
 * cut off by the network, so its locks are released and nothing it wrote is committed); the client
 * gives up on a statement the server has not answered (query_timeout: the server hung, or a network
 * dropping packets); and opening a connection, or waiting for one to come free, is bounded alike.
 * All three server-side values go in the startup packet: no statement runs before they apply.
 */
export function statementBounds(ms: number): Pick<pg.PoolConfig, "connectionTimeoutMillis" | "query_timeout" | "statement_timeout" | "idle_in_transaction_session_timeout"> {
  return { connectionTimeoutMillis: ms, query_timeout: ms, statement_timeout: ms, idle_in_transaction_session_timeout: ms };
}

/** node-postgres's error for a statement unanswered within query_timeout (pg/lib/client.js). */
export function isUnanswered(error: unknown): boolean {
  return error instanceof Error && error.message === "Query read timeout";
}

/**
 * The pool as Kysely takes it, giving up a connection whose statement went unanswered. node-postgres
 * fails the statement at query_timeout but keeps the connection, with the statement still waiting on
 * it: the next statement there (the transaction's ROLLBACK, or the next request's query) would queue
 * behind it and wait as long again, and a connection whose transaction is in an unknown state would
 * go back to the pool, where a later request's statements would run inside it. So every statement
 * after one unanswered fails at once, and the connection is destroyed on release rather than reused;
 * the server rolls its transaction back when it sees the connection close, or when the idle
 * transaction's bound ends it (statementBounds).
 */
export function givingUpUnanswered(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let connection = wrapped.get(client);
      if (connection === undefined) {
        connection = givingUp(client);
        wrapped.set(client, connection);
      }
      return connection;
    },
    end: () => pool.end(),
  };
}

/** Every statement on a connection after one went unanswered (givingUpUnanswered). */
export class ConnectionGivenUp extends Error {
  constructor() {
    super("the database left a statement on this connection unanswered; the connection is given up");
    this.name = "ConnectionGivenUp";
  }
}

function givingUp(client: pg.PoolClient): PostgresPoolClient {
  let unanswered = false;
  const query = async (text: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<unknown>> => {
    if (unanswered) throw new ConnectionGivenUp();
    try {
      return (await client.query(text, [...parameters])) as unknown as PostgresQueryResult<unknown>;
    } catch (error) {
      if (isUnanswered(error)) unanswered = true;
      throw error;
    }
  };
  // node-postgres ends a released connection that still has a statement in flight by destroying its socket.
  return { query, release: (destroy?: boolean) => client.release(destroy === true || unanswered) } as PostgresPoolClient;
}
