// The JSON of /ui/api/snapshot, defined once beside the store that answers it.
export type { NodeRow, SinkRow, Snapshot, TopPod, Value } from '../src/engine/live/wire.js';
