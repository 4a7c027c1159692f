/**
 * Limits on what a pipeline file may ask of the loader, so that a hostile or mistaken file is refused with a
 * message instead of hanging `validate`, `run` or a reload. Each is documented in the README.
 */

/** The largest pipeline file read. A real one is a few KB; parsing a 50 MB one took seconds and gigabytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * How many YAML nodes aliases (`*name`) may expand to in one file, counting aliases inside aliased values: a
 * pipeline file reuses a block a few times, while a "billion laughs" file expands ten aliases to 10^10 nodes.
 */
export const MAX_ALIAS_NODES = 10_000;

/** How long a plugin module may take to import (including its top-level `await`) before it is given up. */
export const PLUGIN_IMPORT_TIMEOUT_MS = 10_000;

/**
 * A byte count the way the messages give it: `1 MiB (1,048,576 bytes)`.
 *
 * @example
 * describeBytes(1024 * 1024) // '1 MiB (1,048,576 bytes)'
 */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return Number.isInteger(mib) ? `${mib} MiB (${exact})` : exact;
}
