/**
 * Every form of UTC time heapstream writes, from a time in ms since the epoch (fractions of a ms carry µs and
 * ns, as the model keeps them). One module, so that every sink and the simulator agree on what a time looks like.
 */

/** 9999-12-31T23:59:59.999Z: later (and negative) times have a longer year and take the slow path. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/**
 * RFC 3339 to the second (`2026-11-28T09:00:00Z`), the way the kubelet writes start times.
 *
 * @example
 * isoSeconds(1_500) // '1970-01-01T00:00:01Z'
 */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + 'Z';
}

/**
 * ISO 8601 with microseconds (`2026-11-28T09:00:00.123456Z`).
 *
 * @example
 * isoMicros(1.5) // '1970-01-01T00:00:00.001500Z'
 */
export function isoMicros(ms: number): string {
  const micros = Math.round(ms * 1000);
  const wholeMs = Math.floor(micros / 1000);
  const rest = micros - wholeMs * 1000;
  const iso = new Date(wholeMs).toISOString();
  return iso.slice(0, -1) + String(rest).padStart(3, '0') + 'Z';
}

/**
 * Go's time.RFC3339Nano (what Heapster wrote): trailing zeros of the fraction are dropped, and a whole second
 * has none.
 *
 * @example
 * rfc3339Nano(Date.UTC(2018, 0, 1)) // '2018-01-01T00:00:00Z'
 */
export function rfc3339Nano(ms: number): string {
  const wholeMs = Math.floor(ms);
  const iso = new Date(wholeMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  let nanos = (wholeMs % 1000) * 1_000_000 + Math.round((ms - wholeMs) * 1_000_000);
  if (nanos <= 0 || nanos >= 1_000_000_000) return iso.slice(0, 19) + 'Z';
  let digits = 9;
  while (nanos % 10 === 0) {
    nanos /= 10;
    digits--;
  }
  return iso.slice(0, 19) + '.' + String(nanos).padStart(digits, '0') + 'Z';
}

/**
 * Date.toISOString() for many times close together (the sample times of one cycle): the part up to the minute
 * is formatted once per minute, which makes an encoder of millions of sets measurably faster.
 *
 * @example
 * const times = new IsoMillis();
 * times.format(Date.UTC(2026, 0, 1)) // '2026-01-01T00:00:00.000Z'
 */
export class IsoMillis {
  private minute = Number.NaN;
  private minuteText = '';
  // The last time formatted: the sets of one node batch mostly share one sample time.
  private lastMs = Number.NaN;
  private lastText = '';

  format(ms: number): string {
    if (ms === this.lastMs) return this.lastText;
    if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return new Date(ms).toISOString();
    const whole = Math.floor(ms);
    const minute = Math.floor(whole / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.minuteText = new Date(minute * 60_000).toISOString().slice(0, 17); // YYYY-MM-DDTHH:MM:
    }
    const inMinute = whole - minute * 60_000;
    const seconds = Math.floor(inMinute / 1000);
    const millis = inMinute - seconds * 1000;
    // Joined rather than concatenated: one flat string, which an output that includes it copies at once, where
    // a rope of six pieces would be walked again for every set that repeats it.
    const text = [
      this.minuteText,
      seconds < 10 ? '0' : '',
      String(seconds),
      millis < 10 ? '.00' : millis < 100 ? '.0' : '.',
      String(millis),
      'Z',
    ].join('');
    this.lastMs = ms;
    this.lastText = text;
    return text;
  }
}
