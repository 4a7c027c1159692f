import { defineProcessor } from '../../src/component/component.js';
import { customConfig } from './config.js';
import { customOperator } from './custom.js';

/**
 * The `custom` processor: runs a processor plugin, a module exporting a `defineProcessor` definition, with its
 * own config and its failures isolated.
 *
 * @example
 * processors:
 *   - type: custom
 *     module: ./plugins/top-pods.ts
 *     on_error: drop
 *     config: { top: 5 }
 */
export default defineProcessor({
  // The config loader imports this type's plugins before validation (src/config/plugins.ts CUSTOM_PROCESSOR_TYPE).
  type: 'custom',
  description:
    'Runs a processor plugin from a module path or package; its config is checked by the plugin’s schema and ' +
    'a batch it fails on is counted and passed on or dropped.',
  config: customConfig,
  create: customOperator,
});

export { customConfigFor, type ResolvedCustomConfig } from './custom.js';
