import { defineSink } from '../../src/component/component.js';
import { fileSinkConfig } from './config.js';
import { FileSink } from './file-sink.js';

/** `type: file` — a data lake directory of Parquet or JSON Lines files under Hive-style partitions. */
export default defineSink({
  type: 'file',
  description:
    'Writes metric sets as Parquet (typed columns) or JSON Lines files under Hive-style partitions, rolled by size and age, with retention.',
  config: fileSinkConfig,
  create: (config, ctx) => new FileSink(config, ctx),
});
