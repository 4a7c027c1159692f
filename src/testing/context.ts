import { systemClock } from '../component/clock.js';
import type { ComponentContext } from '../component/component.js';
import { silentLogger } from '../component/logger.js';
import { Telemetry } from '../component/telemetry.js';
import { NO_METADATA } from '../component/metadata.js';

/**
 * A component context for tests: silent logger, fresh telemetry, no metadata, 15 s resolution.
 *
 * @example
 * const ctx = testContext({ resolutionMs: 10_000 });
 * const op = rate.create(rate.config.parse({}), ctx);
 */
export function testContext(overrides: Partial<ComponentContext> = {}): ComponentContext {
  return {
    id: 'test',
    logger: silentLogger(),
    clock: systemClock(),
    telemetry: new Telemetry(),
    metadata: NO_METADATA,
    signal: new AbortController().signal,
    resolutionMs: 15_000,
    baseDir: process.cwd(),
    keep: (_key, create) => create(),
    ...overrides,
  };
}
