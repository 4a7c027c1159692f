import * as zlib from 'node:zlib';

type ZstdCompress = (input: Uint8Array) => Uint8Array;

/**
 * node:zlib's zstd compressor, or undefined on a Node without it (before 22.15): the config schema rejects
 * `compression: zstd` there, so `validate` says so before `run` starts.
 *
 * @example
 * if (zstdCompressor() === undefined) console.log('use snappy or gzip');
 */
export function zstdCompressor(): ZstdCompress | undefined {
  return (zlib as { zstdCompressSync?: ZstdCompress }).zstdCompressSync;
}

/** Why zstd is refused on this Node. */
export function zstdUnavailableMessage(nodeVersion = process.versions.node): string {
  return `zstd needs Node 22.15 or later (node:zlib zstd); this is Node ${nodeVersion}: use snappy or gzip`;
}
