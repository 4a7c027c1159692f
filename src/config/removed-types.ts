import type { ComponentDefinition } from '../component/component.js';

/** Types that existed once, with what to write instead: shown rather than "unknown type" to a file that uses one. */
const REMOVED: Partial<Record<ComponentDefinition['kind'], Record<string, string>>> = {
  processor: {
    custom:
      'type "custom" was removed: list the module under the top-level `plugins:` key and write the type its ' +
      'definition declares (`type: top_pods`), with the keys of its `config:` at the level of `type` and ' +
      '`on_error` beside them; see docs/plugins.md',
  },
};

/** What to write instead of a removed type, or undefined when `type` was never one. */
export function removedTypeHint(kind: ComponentDefinition['kind'], type: string): string | undefined {
  const hints = REMOVED[kind];
  return hints !== undefined && Object.hasOwn(hints, type) ? hints[type] : undefined;
}
