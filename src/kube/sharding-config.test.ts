import { describe, expect, it } from 'vitest';
import { summarySourceConfig } from '../../sources/kubelet-summary/config.js';
import { shardingSchema } from './sharding-config.js';

describe('sharding:', () => {
  it('has defaults whose take-over (session + 2 heartbeats) fits in the default 15 s resolution', () => {
    const config = shardingSchema.parse({ brokers: ['kafka-0:9092'] });
    expect(config).toMatchObject({
      topic: 'heapstream-shards',
      partitions: 12,
      group_id: 'heapstream-shards',
    });
    expect(config.session_timeout + 2 * config.heartbeat_interval).toBeLessThan(15_000);
  });

  it('refuses a heartbeat longer than a third of the session, at the key', () => {
    const result = shardingSchema.safeParse({
      brokers: ['kafka-0:9092'],
      session_timeout: '6s',
      heartbeat_interval: '3s',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['heartbeat_interval']);
  });

  it('is a key of the kubelet sources', () => {
    const config = summarySourceConfig.parse({
      discovery: { static: [{ name: 'a', address: '10.0.0.1' }] },
      sharding: { brokers: ['kafka-0:9092'], partitions: 24 },
    });
    expect(config.sharding?.partitions).toBe(24);
  });
});
