import { HeapstreamError } from '../component/errors.js';

/** Usable last octets per /24: .1 … .254 (skipping the network .0 and broadcast .255 lookalikes). */
const PER_BLOCK = 254;

/**
 * The loopback address of the `index`-th simulated node: 127.0.1.1, 127.0.1.2 … 127.0.1.254, 127.0.2.1 …
 * The whole of 127.0.0.0/8 is local on Linux, so each node gets its own address on one shared port, the way real
 * kubelets share 10250.
 *
 * @example
 * nodeAddress(0); // '127.0.1.1'
 * nodeAddress(254); // '127.0.2.1'
 */
export function nodeAddress(index: number, firstAddress = '127.0.1.1'): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new HeapstreamError(`node index ${index} must be a non-negative integer`);
  }
  const first = parseIpv4(firstAddress);
  const firstOctet = first & 0xff;
  if (firstOctet === 0 || firstOctet === 255) {
    throw new HeapstreamError(`first node address ${firstAddress} must not end in .0 or .255`);
  }
  const position = firstOctet - 1 + index;
  const value = (first & ~0xff) + Math.floor(position / PER_BLOCK) * 256 + (position % PER_BLOCK) + 1;
  if (value >>> 24 !== 127 || first >>> 24 !== 127) {
    throw new HeapstreamError(
      `node ${index} from ${firstAddress} falls outside loopback 127.0.0.0/8; use a lower first address or fewer nodes`,
    );
  }
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function parseIpv4(address: string): number {
  const parts = address.split('.');
  const octets = parts.map(Number);
  if (parts.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new HeapstreamError(`"${address}" is not an IPv4 address`);
  }
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}
