import { BATCH_OVERHEAD, RECORD_OVERHEAD, type KafkaRecord } from './encode.js';

/** The messages of one produce request, grouped by topic as kafkajs' sendBatch takes them. */
export interface SendChunk {
  readonly topicMessages: { topic: string; messages: { key: string | null; value: string }[] }[];
  readonly records: number;
  readonly bytes: number;
}

/**
 * Splits records into produce requests of at most `maxBytes` each. The broker limits each record batch (one
 * per partition in a request) to its message.max.bytes, so keeping a whole request under the limit keeps every
 * record batch in it under the limit too. Records must each fit (the encoder sets aside those that do not).
 *
 * @example
 * for (const chunk of chunkRecords(records, 1_000_000)) await producer.sendBatch({ topicMessages: chunk.topicMessages });
 */
export function chunkRecords(records: readonly KafkaRecord[], maxBytes: number): SendChunk[] {
  const chunks: SendChunk[] = [];
  let byTopic = new Map<string, { key: string | null; value: string }[]>();
  let bytes = BATCH_OVERHEAD;
  let count = 0;
  const flush = (): void => {
    const topicMessages = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    chunks.push({ topicMessages, records: count, bytes });
    byTopic = new Map();
    bytes = BATCH_OVERHEAD;
    count = 0;
  };
  for (const record of records) {
    const size = record.bytes + RECORD_OVERHEAD;
    if (count > 0 && bytes + size > maxBytes) flush();
    let messages = byTopic.get(record.topic);
    if (messages === undefined) byTopic.set(record.topic, (messages = []));
    messages.push({ key: record.key, value: record.value });
    bytes += size;
    count++;
  }
  if (count > 0) flush();
  return chunks;
}

/**
 * Several pieces as one produce request (their sum must fit in max_message_bytes), messages in piece order.
 *
 * @example
 * await producer.sendBatch({ topicMessages: mergeChunks([a, b]).topicMessages });
 */
export function mergeChunks(chunks: readonly SendChunk[]): SendChunk {
  if (chunks.length === 1) return chunks[0] as SendChunk;
  const byTopic = new Map<string, { key: string | null; value: string }[]>();
  let records = 0;
  let bytes = 0;
  for (const chunk of chunks) {
    records += chunk.records;
    bytes += chunk.bytes;
    for (const { topic, messages } of chunk.topicMessages) {
      const merged = byTopic.get(topic);
      if (merged === undefined) byTopic.set(topic, messages.slice());
      else for (const message of messages) merged.push(message);
    }
  }
  const topicMessages = [];
  for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
  return { topicMessages, records, bytes };
}
