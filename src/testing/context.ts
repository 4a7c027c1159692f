import { systemClock } from '../engine/clock.js';
import type { ComponentContext } from '../engine/component.js';
import { silentLogger } from '../engine/logger.js';
import { Telemetry } from '../engine/telemetry.js';
import { NO_METADATA } from '../kube/metadata.js';

/**
 * A component context for tests: silent logger, fresh telemetry, no metadata, 15 s resolution.
 *
 * @example
 * const ctx = testContext({ resolutionMs: 10_000 });
 * const op = rate.create(rate.config.parse({}), ctx);
 */
export function testContext(overrides: Partial<ComponentContext> = {}): ComponentContext {
  return {
    name: 'test',
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
