import kafkajs, { type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';

const { Partitioners } = kafkajs;

/** Keys remembered per topic before the memory is cleared: enough for every pod of a large cluster. */
const MAX_KEYS_PER_TOPIC = 200_000;

interface TopicKeys {
  partitions: number;
  readonly byKey: Map<string, number>;
}

/**
 * kafkajs' default partitioner (murmur2 of the key, as Java clients place keys), remembering each key's
 * partition per topic while the partition count stays the same. A batch's messages share a few keys (their
 * node, namespace or pod), and murmur2 over kafkajs' 64-bit emulation, plus a filter of the partition list,
 * cost more per message than encoding it. Messages without a key go to kafkajs' partitioner unchanged.
 *
 * @example
 * kafka.producer({ createPartitioner: rememberingPartitioner });
 */
export const rememberingPartitioner: ICustomPartitioner = () => {
  const base = Partitioners.DefaultPartitioner();
  const topics = new Map<string, TopicKeys>();
  return (args: PartitionerArgs): number => {
    const key = args.message.key;
    if (typeof key !== 'string' || args.message.partition != null) return base(args);
    const partitions = args.partitionMetadata.length;
    let known = topics.get(args.topic);
    if (known === undefined) topics.set(args.topic, (known = { partitions, byKey: new Map() }));
    if (known.partitions !== partitions || known.byKey.size >= MAX_KEYS_PER_TOPIC) {
      known.partitions = partitions;
      known.byKey.clear();
    }
    let partition = known.byKey.get(key);
    if (partition === undefined) {
      partition = base(args);
      known.byKey.set(key, partition);
    }
    return partition;
  };
};
