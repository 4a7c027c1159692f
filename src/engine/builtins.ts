import kubeletSummary from '../../sources/kubelet-summary/index.js';
import stdout from '../../sinks/stdout/index.js';
import { Registry } from './registry.js';

/** A registry holding every built-in source, processor and sink. */
export function createBuiltinRegistry(): Registry {
  return new Registry().register(kubeletSummary, stdout);
}
