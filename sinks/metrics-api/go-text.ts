/**
 * The text forms Kubernetes' Go types give the metrics API's values, written the way apimachinery writes them so
 * that clients which compare or parse the text (kubectl, the HPA, dashboards) see what metrics-server sends.
 */

const DECIMAL_SUFFIXES: Readonly<Record<number, string>> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/**
 * A count of 10^exponent units as resource.Quantity's canonical DecimalSI text (apimachinery's
 * `int64Amount.AsCanonicalBytes`): trailing zeros move into the exponent, which is then lowered to a multiple of 3.
 */
function decimalText(amount: number, exponent: number): string {
  if (amount === 0) return '0';
  let mantissa = amount;
  let exp = exponent;
  while (mantissa >= 10 && mantissa % 10 === 0) {
    mantissa /= 10;
    exp++;
  }
  const rest = ((exp % 3) + 3) % 3;
  if (rest === 1) {
    mantissa *= 10;
    exp -= 1;
  } else if (rest === 2) {
    mantissa *= 100;
    exp -= 2;
  }
  return String(mantissa) + (DECIMAL_SUFFIXES[exp] ?? `e${exp}`);
}

/**
 * CPU usage as metrics-server writes it: `resource.NewScaledQuantity(nanocores, -9)` in DecimalSI
 * (metrics-server pkg/storage/types.go `resourceUsage`), marshalled canonically, so 123456789 nanocores is
 * `"123456789n"`, 250000000 is `"250m"`, 2000000000 is `"2"` and 0 is `"0"`.
 *
 * @example
 * cpuQuantity(1_500_000) // '1500u'
 */
export function cpuQuantity(nanocores: number): string {
  return decimalText(nanocores, -9);
}

/**
 * Memory as metrics-server writes it: a BinarySI quantity of bytes (pkg/storage/types.go), marshalled as
 * apimachinery's `CanonicalizeBytes` does: below 1024 it is DecimalSI (`"1k"` for 1000), otherwise whole powers
 * of 1024 move into the suffix (`"1234Ki"`, `"2Gi"`) and a value not divisible by 1024 stays in bytes.
 *
 * @example
 * memoryQuantity(1_263_616) // '1234Ki'
 */
export function memoryQuantity(bytes: number): string {
  if (bytes < 1024) return decimalText(bytes, 0);
  let mantissa = bytes;
  let times = 0;
  while (mantissa >= 1024 && mantissa % 1024 === 0 && times < BINARY_SUFFIXES.length - 1) {
    mantissa /= 1024;
    times++;
  }
  return String(mantissa) + (BINARY_SUFFIXES[times] as string);
}

/** Digits of `value` (< 10^precision) as a fraction of `precision` places, trailing zeros and a bare dot dropped. */
function fraction(value: number, precision: number): string {
  if (value === 0) return '';
  const digits = String(value).padStart(precision, '0').replace(/0+$/, '');
  return '.' + digits;
}

/**
 * A duration in nanoseconds as Go's `time.Duration.String()`, which metav1.Duration marshals: `"15.012s"`,
 * `"1m0.5s"`, `"500ms"`, `"0s"`.
 *
 * @example
 * goDuration(15_012_000_000) // '15.012s'
 */
export function goDuration(ns: number): string {
  const sign = ns < 0 ? '-' : '';
  const u = Math.abs(Math.round(ns));
  if (u === 0) return '0s';
  if (u < 1_000) return `${sign}${u}ns`;
  if (u < 1_000_000) return `${sign}${Math.floor(u / 1_000)}${fraction(u % 1_000, 3)}µs`;
  if (u < 1_000_000_000) return `${sign}${Math.floor(u / 1_000_000)}${fraction(u % 1_000_000, 6)}ms`;
  const secondsFraction = fraction(u % 1_000_000_000, 9);
  let whole = Math.floor(u / 1_000_000_000);
  let text = `${whole % 60}${secondsFraction}s`;
  whole = Math.floor(whole / 60);
  if (whole > 0) {
    text = `${whole % 60}m` + text;
    whole = Math.floor(whole / 60);
    if (whole > 0) text = `${whole}h` + text;
  }
  return sign + text;
}
