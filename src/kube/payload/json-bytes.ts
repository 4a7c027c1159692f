/**
 * A validating JSON reader over the bytes of a response, for decoders that want a few fields of a large payload
 * without `JSON.parse` building the whole tree (and the garbage collector then sweeping it).
 *
 * It accepts exactly what `JSON.parse` accepts (RFC 8259 grammar, whitespace = space, tab, CR, LF) and gives the
 * same values: numbers through the same correctly rounded conversion, strings with the same escapes, invalid
 * UTF-8 replaced by U+FFFD as `Buffer.toString('utf8')` does. What it rejects it rejects with a JsonSyntaxError
 * that carries no position: callers fall back to `JSON.parse` for the user-facing message.
 */

/** The bytes are not valid JSON; `JSON.parse` of the same text says where and why. */
export class JsonSyntaxError extends Error {
  constructor() {
    super('invalid JSON');
    this.name = 'JsonSyntaxError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;

/** Digits an integer may have and still be exact when accumulated in a double (10^15 < 2^53). */
const EXACT_DIGITS = 15;

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

/**
 * Names of the keys one kind of object is read for, matched against key bytes without making a string.
 *
 * @example
 * const CPU_KEYS = new KeyTable(['time', 'usageCoreNanoSeconds']);
 * CPU_KEYS.names[reader.readKey(CPU_KEYS)]; // 'time', or undefined for a key not in the table (-1)
 */
export class KeyTable {
  private readonly bytes: Uint8Array[];
  /**
   * The ids of the keys of each length, dense up to the longest name: a key's length rules out most names before
   * any byte is compared, and a dense array never reads out of bounds (which V8 makes slow).
   */
  private readonly byLength: number[][];
  private readonly byName: Map<string, number>;

  constructor(readonly names: readonly string[]) {
    this.bytes = names.map((name) => Buffer.from(name, 'utf8'));
    const longest = Math.max(0, ...this.bytes.map((bytes) => bytes.length));
    this.byLength = Array.from({ length: longest + 1 }, (): number[] => []);
    this.bytes.forEach((bytes, id) => this.byLength[bytes.length]!.push(id));
    this.byName = new Map(names.map((name, i) => [name, i]));
  }

  /** The index of the key spelled by `source[start, end)`, or -1. */
  match(source: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const byLength = this.byLength;
    if (length >= byLength.length) return -1;
    const ids = byLength[length]!;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const candidate = this.bytes[id]!;
      let i = 0;
      while (i < length && candidate[i] === source[start + i]) i++;
      if (i === length) return id;
    }
    return -1;
  }

  /** The index of `name`, or -1 (for keys written with escapes). */
  matchString(name: string): number {
    return this.byName.get(name) ?? -1;
  }
}

/**
 * A cursor over one JSON document. Methods that read a value expect the cursor on its first byte (after
 * `next()` skipped the whitespace) and leave it just past the value.
 *
 * @example
 * const reader = new JsonBytesReader(Buffer.from('{"a": [1, 2.5]}'));
 * reader.next(); // 0x7b '{'
 * reader.readValue(); // { a: [1, 2.5] }
 * reader.end(); // throws JsonSyntaxError if anything but whitespace follows
 */
export class JsonBytesReader {
  pos = 0;
  private text: Buffer;
  /** The bytes and string of the last readMemoString, reused while the bytes repeat. */
  private memoStart = -1;
  private memoEnd = -1;
  private memoString = '';
  /** skipValue's stack of open containers, kept between calls. */
  private readonly open: number[] = [];

  constructor(private bytes: Uint8Array) {
    this.text = asBuffer(bytes);
  }

  /**
   * Starts over on `bytes`. A decoder keeps one reader for good rather than one per payload: when no reader is
   * alive at a full GC, V8 drops the reader's hidden class and deoptimizes every function that embedded it
   * ("weak objects"), and the next payloads ran 10 to 40 times slower (4-15 ms instead of 0.4 ms) until re-optimized.
   */
  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.text = asBuffer(bytes);
    this.pos = 0;
    this.memoStart = -1;
    this.memoEnd = -1;
    this.memoString = '';
    this.open.length = 0;
  }

  /** Skips whitespace; the byte at the cursor, or -1 at the end. */
  next(): number {
    const bytes = this.bytes;
    let pos = this.pos;
    let c = -1;
    while (pos < bytes.length) {
      c = bytes[pos]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      pos++;
    }
    this.pos = pos;
    return pos < bytes.length ? c : -1;
  }

  /** Consumes `byte` after optional whitespace, or throws. */
  expect(byte: number): void {
    if (this.next() !== byte) throw new JsonSyntaxError();
    this.pos++;
  }

  /** After a value inside an object or array: true past a comma, false past `close`; throws otherwise. */
  more(close: number): boolean {
    const c = this.next();
    this.pos++;
    if (c === COMMA) return true;
    if (c === close) return false;
    throw new JsonSyntaxError();
  }

  /** Past `{`: true if the object is empty (and consumes the `}`). */
  emptyObject(): boolean {
    if (this.next() !== CLOSE_BRACE) return false;
    this.pos++;
    return true;
  }

  /** Past `[`: true if the array is empty (and consumes the `]`). */
  emptyArray(): boolean {
    if (this.next() !== CLOSE_BRACKET) return false;
    this.pos++;
    return true;
  }

  /**
   * Reads a key and its colon, with the cursor on the key's opening quote (after whitespace): the key's index in
   * `table`, or -1 for any other key.
   */
  readKey(table: KeyTable): number {
    if (this.next() !== QUOTE) throw new JsonSyntaxError();
    const start = this.pos + 1;
    const end = this.scanString(start);
    let id: number;
    if (end >= 0) {
      id = table.match(this.bytes, start, end);
      this.pos = end + 1;
    } else {
      id = table.matchString(this.readString());
    }
    this.expect(COLON);
    return id;
  }

  /** Reads a string, with the cursor on its opening quote. */
  readString(): string {
    const start = this.pos + 1;
    const end = this.scanString(start);
    if (end >= 0) {
      this.pos = end + 1;
      return this.slice(start, end);
    }
    return this.readEscapedString(start);
  }

  /**
   * readString that returns the very string of the previous call when the bytes are the same: a payload repeats
   * each sample time dozens of times, so the time parser's memo then compares one pointer, and no string is made.
   */
  readMemoString(): string {
    const start = this.pos + 1;
    const end = this.scanString(start);
    if (end < 0) return this.readEscapedString(start);
    this.pos = end + 1;
    const bytes = this.bytes;
    const memoStart = this.memoStart;
    const length = end - start;
    if (memoStart >= 0 && this.memoEnd - memoStart === length) {
      let i = 0;
      while (i < length && bytes[memoStart + i] === bytes[start + i]) i++;
      if (i === length) return this.memoString;
    }
    const text = this.slice(start, end);
    this.memoStart = start;
    this.memoEnd = end;
    this.memoString = text;
    return text;
  }

  /** Reads a number, with the cursor on its first byte: the double `JSON.parse` gives. */
  readNumber(): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    const negative = bytes[pos] === MINUS;
    if (negative) pos++;
    const first = bytes[pos];
    if (first === undefined || first < ZERO || first > NINE) throw new JsonSyntaxError();
    let value = 0;
    const digitsStart = pos;
    if (first === ZERO) {
      pos++;
    } else {
      let c = first;
      while (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        c = bytes[++pos] ?? -1;
      }
    }
    let exact = pos - digitsStart <= EXACT_DIGITS;
    let c = bytes[pos] ?? -1;
    if (c === DOT) {
      exact = false;
      pos = this.digits(pos + 1);
      c = bytes[pos] ?? -1;
    }
    if (c === 0x65 || c === 0x45 /* e E */) {
      exact = false;
      pos++;
      c = bytes[pos] ?? -1;
      if (c === 0x2b || c === MINUS) pos++;
      pos = this.digits(pos);
    }
    this.pos = pos;
    if (exact) return negative ? -value : value;
    // Long digit runs (uint64 counters), fractions and exponents: the engine's own correctly rounded conversion.
    return Number(this.text.toString('latin1', start, pos));
  }

  /** Reads any value, with the cursor on its first byte, as `JSON.parse` would build it. */
  readValue(): unknown {
    const c = this.next();
    switch (c) {
      case QUOTE:
        return this.readString();
      case OPEN_BRACE: {
        this.pos++;
        const object: Record<string, unknown> = {};
        if (this.emptyObject()) return object;
        do {
          if (this.next() !== QUOTE) throw new JsonSyntaxError();
          const key = this.readString();
          this.expect(COLON);
          const value = this.readValue();
          // JSON.parse makes "__proto__" an own property; an assignment would set the prototype instead.
          if (key === '__proto__') {
            Object.defineProperty(object, key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else {
            object[key] = value;
          }
        } while (this.more(CLOSE_BRACE));
        return object;
      }
      case OPEN_BRACKET: {
        this.pos++;
        const array: unknown[] = [];
        if (this.emptyArray()) return array;
        do array.push(this.readValue());
        while (this.more(CLOSE_BRACKET));
        return array;
      }
      default:
        return this.readScalar(c);
    }
  }

  /** A number, true, false or null at the cursor (byte `c`); throws for anything else. */
  readScalar(c: number): number | boolean | null {
    switch (c) {
      case 0x74 /* t */:
        this.literal(TRUE);
        return true;
      case 0x66 /* f */:
        this.literal(FALSE);
        return false;
      case 0x6e /* n */:
        this.literal(NULL);
        return null;
      default:
        return this.readNumber();
    }
  }

  /**
   * Skips any value, with the cursor on its first byte (or whitespace before it), validating it without building
   * anything. One loop with the cursor in a local: most of a kubelet payload is skipped, and method calls per
   * token made this twice as slow as JSON.parse of the whole payload.
   */
  skipValue(): void {
    const bytes = this.bytes;
    // Iterative, so that a hostile nesting depth costs a slot per level, not a stack frame. 1 = object, 0 = array.
    const open = this.open;
    if (open.length !== 0) open.length = 0; // left over from a skip that threw
    let pos = this.pos;
    let c = 0;
    for (;;) {
      c = bytes[pos] ?? -1;
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] ?? -1;
      if (c === QUOTE) {
        pos = skipStringAt(bytes, pos + 1);
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        const object = c === OPEN_BRACE;
        c = bytes[++pos] ?? -1;
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] ?? -1;
        if (c === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
          pos++;
        } else {
          open.push(object ? 1 : 0);
          if (object) pos = skipKeyAt(bytes, pos);
          continue;
        }
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        pos = skipNumberAt(bytes, pos);
      } else {
        this.pos = pos;
        this.readScalar(c);
        pos = this.pos;
      }
      // After a value: close what ends here, then go on with the next element or member.
      for (;;) {
        if (open.length === 0) {
          this.pos = pos;
          return;
        }
        c = bytes[pos] ?? -1;
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] ?? -1;
        const object = open[open.length - 1] === 1;
        pos++;
        if (c === COMMA) {
          if (object) pos = skipKeyAt(bytes, pos);
          break;
        }
        if (c !== (object ? CLOSE_BRACE : CLOSE_BRACKET)) throw new JsonSyntaxError();
        open.pop();
      }
    }
  }

  /** Throws unless only whitespace is left. */
  end(): void {
    if (this.next() !== -1) throw new JsonSyntaxError();
  }

  /**
   * The index of the closing quote of a string whose content starts at `start`, or -1 if the string has an
   * escape (the caller then reads it with readEscapedString). Throws on a control character or the end.
   */
  private scanString(start: number): number {
    const bytes = this.bytes;
    const length = bytes.length;
    for (let i = start; i < length; i++) {
      const c = bytes[i]!;
      if (c === QUOTE) return i;
      if (c === BACKSLASH) return -1;
      if (c < 0x20) throw new JsonSyntaxError();
    }
    throw new JsonSyntaxError();
  }

  /** A string with escapes whose content starts at `start`; leaves the cursor past its closing quote. */
  private readEscapedString(start: number): string {
    const bytes = this.bytes;
    let out = '';
    let run = start;
    let i = start;
    for (;;) {
      const c = bytes[i];
      if (c === undefined || c < 0x20) throw new JsonSyntaxError();
      if (c === QUOTE) break;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += this.slice(run, i);
      const e = bytes[i + 1];
      switch (e) {
        case QUOTE:
          out += '"';
          break;
        case BACKSLASH:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75 /* u */: {
          let code = 0;
          for (let k = i + 2; k < i + 6; k++) {
            const h = hexValue(bytes[k]);
            if (h < 0) throw new JsonSyntaxError();
            code = code * 16 + h;
          }
          // A lone surrogate stays one, as JSON.parse keeps it.
          out += String.fromCharCode(code);
          i += 4;
          break;
        }
        default:
          throw new JsonSyntaxError();
      }
      i += 2;
      run = i;
    }
    out += this.slice(run, i);
    this.pos = i + 1;
    return out;
  }

  private slice(start: number, end: number): string {
    const bytes = this.bytes;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) return this.text.toString('utf8', start, end);
    }
    // ASCII, the usual case: latin1 decoding makes the same string without UTF-8 validation.
    return this.text.toString('latin1', start, end);
  }

  /** Past one or more digits from `pos`; throws if there is none. */
  private digits(pos: number): number {
    const bytes = this.bytes;
    let c = bytes[pos] ?? -1;
    if (c < ZERO || c > NINE) throw new JsonSyntaxError();
    while (c >= ZERO && c <= NINE) c = bytes[++pos] ?? -1;
    return pos;
  }

  /** Consumes `word` (true, false or null) at the cursor, or throws. */
  private literal(word: Uint8Array): void {
    const bytes = this.bytes;
    const pos = this.pos;
    for (let k = 0; k < word.length; k++) {
      if (bytes[pos + k] !== word[k]) throw new JsonSyntaxError();
    }
    this.pos = pos + word.length;
  }
}

/** Past the string whose content starts at `pos`, validated (escapes, no control characters). */
function skipStringAt(bytes: Uint8Array, pos: number): number {
  for (;;) {
    const c = bytes[pos++] ?? -1;
    if (c === QUOTE) return pos;
    if (c === BACKSLASH) {
      const e = bytes[pos++] ?? -1;
      if (e === 0x75 /* u */) {
        for (let k = 0; k < 4; k++) if (hexValue(bytes[pos++]) < 0) throw new JsonSyntaxError();
      } else if (
        e !== QUOTE &&
        e !== BACKSLASH &&
        e !== 0x2f &&
        e !== 0x62 &&
        e !== 0x66 &&
        e !== 0x6e &&
        e !== 0x72 &&
        e !== 0x74
      ) {
        throw new JsonSyntaxError();
      }
    } else if (c < 0x20) {
      // A control character, or the end of the bytes (-1).
      throw new JsonSyntaxError();
    }
  }
}

/** Past an object's key and its colon, from whitespace before the key. */
function skipKeyAt(bytes: Uint8Array, pos: number): number {
  let c = bytes[pos] ?? -1;
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] ?? -1;
  if (c !== QUOTE) throw new JsonSyntaxError();
  pos = skipStringAt(bytes, pos + 1);
  c = bytes[pos] ?? -1;
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++pos] ?? -1;
  if (c !== COLON) throw new JsonSyntaxError();
  return pos + 1;
}

/** Past the number starting at `pos`, validated against JSON's grammar. */
function skipNumberAt(bytes: Uint8Array, pos: number): number {
  let c = bytes[pos] ?? -1;
  if (c === MINUS) c = bytes[++pos] ?? -1;
  if (c === ZERO) {
    c = bytes[++pos] ?? -1;
  } else {
    if (c < ZERO || c > NINE) throw new JsonSyntaxError();
    while (c >= ZERO && c <= NINE) c = bytes[++pos] ?? -1;
  }
  if (c === DOT) {
    c = bytes[++pos] ?? -1;
    if (c < ZERO || c > NINE) throw new JsonSyntaxError();
    while (c >= ZERO && c <= NINE) c = bytes[++pos] ?? -1;
  }
  if (c === 0x65 || c === 0x45 /* e E */) {
    c = bytes[++pos] ?? -1;
    if (c === 0x2b || c === MINUS) c = bytes[++pos] ?? -1;
    if (c < ZERO || c > NINE) throw new JsonSyntaxError();
    while (c >= ZERO && c <= NINE) c = bytes[++pos] ?? -1;
  }
  return pos;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
