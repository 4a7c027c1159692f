import type { Value } from './snapshot.js';

/** `1.25 cores` / `250 m`: millicores as people read them. */
export function cpu(millicores: Value): string {
  if (millicores === null) return '–';
  return millicores >= 1000
    ? `${Number((millicores / 1000).toFixed(2))} cores`
    : `${Math.round(millicores)} m`;
}

/** `1.5 GiB`, binary units as kubectl top shows memory. */
export function bytes(value: Value): string {
  if (value === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i] ?? 'B'}`;
}

export function time(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function count(n: number): string {
  return n.toLocaleString('en');
}
