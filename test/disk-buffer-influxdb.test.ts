import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxDB1, type HttpService } from './services/influxdb.js';
import { freeLoopbackPort } from './services/ports.js';
import {
  batchId,
  checkDelivered,
  writeDurableConfig,
  killWhileDownThenRecover,
} from './support/durable-delivery.js';

// The "done when" with a real InfluxDB 1.x: the server is stopped, heapstream (the real CLI) runs several
// cycles with its InfluxDB sink buffered on disk, is killed with SIGKILL, restarted, and the server started: every
// batch made before the kill is in the database, but for the last cycle's batches not yet written to the buffer
// when the kill came. InfluxDB cannot show duplicates: a point written again (same series, same time) replaces
// itself, so a batch redelivered after the restart is idempotent there; the test bounds the redelivered count.
const MAX_IN_FLIGHT = 2;
let dir: string;
let influx: HttpService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-disk-influxdb-'));
  influx = await startInfluxDB1();
});
afterAll(async () => {
  await influx?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface InfluxQLResult {
  results: { series?: { columns: string[]; values: (string | number | null)[][] }[]; error?: string }[];
}

/** Node batches in the database, from each node's `uptime` point (tag `type=node`): batch id → 1. */
async function storedBatches(database: string): Promise<Map<string, number>> {
  const q = new URLSearchParams({
    db: database,
    epoch: 'ms',
    q: `SELECT "value", "nodename" FROM "uptime" WHERE "type" = 'node'`,
  });
  const body = (await (await fetch(`${influx.url}/query?${q.toString()}`)).json()) as InfluxQLResult;
  const stored = new Map<string, number>();
  for (const series of body.results[0]?.series ?? []) {
    const time = series.columns.indexOf('time');
    const node = series.columns.indexOf('nodename');
    for (const row of series.values) stored.set(batchId(String(row[node]), Number(row[time])), 1);
  }
  return stored;
}

describe('heapstream run with an InfluxDB sink buffered on disk, the server down across a SIGKILL', () => {
  it('writes every batch made before the kill once the server is back, redeliveries bounded', async () => {
    const database = 'durable';
    const config = await writeDurableConfig({
      dir,
      port: await freeLoopbackPort(),
      firstAddress: '127.0.24.1',
      sinkLines: [
        'type: influxdb',
        'api: v1',
        `url: '${influx.url}'`,
        `database: ${database}`,
        'create_database: true',
        'timeout: 2s',
        `max_in_flight: ${MAX_IN_FLIGHT}`,
      ],
    });
    const { made, redelivered, log } = await killWhileDownThenRecover(config, influx);

    const check = checkDelivered(made, await storedBatches(database));
    expect(check.lostBeyondBound, log).toEqual([]);
    expect(check.delivered).toBeGreaterThanOrEqual(3 * 3);
    expect(redelivered, log).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(log).toMatch(/the disk buffer holds \d+ batches from before; delivering them first/);
  });
});
