/**
 * RFC 3339 timestamps of the kubelet's Summary API, parsed by hand: one payload carries thousands of them, and
 * `Date.parse` neither keeps sub-millisecond digits nor behaves the same for every RFC 3339 form across engines.
 */

/** Go's zero `time.Time` (0001-01-01T00:00:00Z) in ms since the epoch: the kubelet's way of saying "no time". */
export const GO_ZERO_TIME_MS = -62_135_596_800_000;

const MS_PER_DAY = 86_400_000;

/**
 * RFC 3339 text (fractional seconds up to ns, `Z` or a `±hh:mm` offset) → ms since the epoch, sub-ms digits
 * kept as a fraction; undefined when the text is absent or not a valid RFC 3339 time.
 *
 * @example
 * parseKubeletTime('2018-01-01T01:00:00.000123Z') // 1514768400000.123
 */
export function parseKubeletTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length < 20) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    text.charCodeAt(4) !== 45 /* - */ ||
    text.charCodeAt(7) !== 45 ||
    (text.charCodeAt(10) | 0x20) !== 116 /* T or t */ ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58
  ) {
    return undefined;
  }

  let i = 19;
  let nanos = 0;
  if (text.charCodeAt(i) === 46 /* . */) {
    i++;
    const first = i;
    let scale = 100_000_000;
    for (let c = text.charCodeAt(i) - 48; c >= 0 && c <= 9; c = text.charCodeAt(++i) - 48) {
      // Digits past the ninth are below a nanosecond: valid RFC 3339, but Go drops them too.
      nanos += c * scale;
      scale = scale >= 10 ? scale / 10 : 0;
    }
    if (i === first) return undefined;
  }

  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if ((zone | 0x20) === 122 /* Z or z */) {
    if (text.length !== i + 1) return undefined;
  } else if (zone === 43 /* + */ || zone === 45 /* - */) {
    const offsetHours = digits(text, i + 1, 2);
    const offsetMins = digits(text, i + 4, 2);
    if (
      text.length !== i + 6 ||
      text.charCodeAt(i + 3) !== 58 ||
      offsetHours < 0 ||
      offsetHours > 23 ||
      offsetMins < 0 ||
      offsetMins > 59
    ) {
      return undefined;
    }
    offsetMinutes = (zone === 43 ? 1 : -1) * (offsetHours * 60 + offsetMins);
  } else {
    return undefined;
  }

  const wholeMs =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hour * 3_600_000 +
    (minute - offsetMinutes) * 60_000 +
    second * 1000;
  return nanos === 0 ? wholeMs : wholeMs + nanos / 1e6;
}

/**
 * parseKubeletTime with a one-entry memo: within one payload the cpu, memory and network `time` of an object
 * are nearly always the same text. One parser per decode, so no state outlives a payload.
 *
 * @example
 * const times = new KubeletTimeParser();
 * times.parse('2018-01-01T01:00:00Z'); // 1514768400000
 */
export class KubeletTimeParser {
  private lastText: string | undefined;
  private lastValue: number | undefined;

  parse(text: string): number | undefined {
    if (text === this.lastText) return this.lastValue;
    const value = parseKubeletTime(text);
    this.lastText = text;
    this.lastValue = value;
    return value;
  }
}

/** The unsigned decimal of `count` digits at `start`, or -1 if any of them is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    value = value * 10 + c;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). Unlike Date.UTC it has
 * no special case for years 0–99, so Go's zero time (year 1) comes out right.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
