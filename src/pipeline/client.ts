import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { temporalConnectionOptions } from './temporal';

/** No Temporal server answered at the configured address (retrying later may help). */
export class TemporalUnreachableError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `cannot reach Temporal at ${address} (${cause instanceof Error ? cause.message : String(cause)}): start it with \`icecream stack up\` or set TEMPORAL_ADDRESS`,
      { cause },
    );
    this.name = 'TemporalUnreachableError';
  }
}

/**
 * Connects a Temporal client for the configured address and namespace, runs `fn` with it and
 * closes the connection, whether `fn` succeeds or throws.
 * @throws TemporalUnreachableError when the connection fails.
 */
export async function withTemporalClient<T>(
  config: Config,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  let connection: Connection;
  try {
    connection = await Connection.connect(temporalConnectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachableError(config.temporal.address, err);
  }
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}
