import { defineSink } from '../../src/component/component.js';
import { stdoutSinkConfig } from './config.js';
import { stdoutSink } from './stdout-sink.js';

/** `type: stdout` — metric sets as JSON lines, or a readable table per cycle. */
export default defineSink({
  type: 'stdout',
  description: 'Writes metric sets to standard output as JSON lines, or a readable table per cycle.',
  config: stdoutSinkConfig,
  create: (config) => stdoutSink(config),
});
