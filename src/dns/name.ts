/**
 * @module dns/name
 * Domain names on the wire: reading (with RFC 1035 compression pointers that
 * may only point backwards) and writing in uncompressed form. Names in the
 * rest of the server are lower-case presentation strings with a trailing dot
 * ("nginx.default.svc.cluster.local."); "." is the root.
 */

/** Why a name could not be read. Carries no stack-worthy detail: it is expected input. */
export class NameError extends Error {}

/**
 * Reads the name at `offset` of `msg`. Returns the lower-case presentation
 * form and the offset just after the name in the original position. Rejects
 * labels over 63, names over 255 octets, forward or self pointers (a valid
 * pointer always points to an earlier name), pointers into the header, and
 * running off the end.
 */
export function readName(msg: Uint8Array, offset: number): { name: string; end: number } {
  const name = readNameText(msg, offset);
  if (name === '') throw new NameError(nameFailure);
  return { name, end: nameEnd };
}

/** Where the name read last by readNameText ended: lets the hot path read a name without a result object. */
let nameEnd = 0;
/** Why the last readNameText or skipName failed (valid after it returned '' or -1). */
let nameFailure = '';

/** The end offset of the name readNameText read last (valid until the next call). */
export function lastNameEnd(): number {
  return nameEnd;
}

/** Why the last readNameText (returned '') or skipName (returned -1) could not read the name. */
export function lastNameFailure(): string {
  return nameFailure;
}

/** readNameText and skipName report a malformed name by returning this (never an exception: it is input, not a bug). */
function bad(reason: string): '' {
  nameFailure = reason;
  return '';
}

/**
 * readName without the result object or the exception: returns the name
 * (the offset after it is lastNameEnd()), or '' when it cannot be read
 * (lastNameFailure() says why). Malformed names come from outside at any
 * rate, so rejecting one must cost what reading a good one costs: a thrown
 * error (a stack trace captured) costs 10-30 times more. Hand-written because
 * it sits on the hot path of every query; a name of plain lower-case
 * letters, digits, '-' and '_' (nearly every query) is copied without the
 * per-byte escaping checks.
 */
export function readNameText(msg: Uint8Array, offset: number): string {
  let pos = offset;
  let end = -1;
  let wireLen = 0;
  let n = 0; // characters of the presentation form written to `scratch`
  let minPtr = offset; // every pointer must land strictly before the last one
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= msg.length) return bad('name runs past the end of the message');
    const len = msg[pos]!;
    if (len === 0) {
      nameEnd = end < 0 ? pos + 1 : end;
      return n === 0 ? '.' : scratch.toString('latin1', 0, n);
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= msg.length) return bad('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (target >= minPtr) return bad('compression pointer does not point backwards');
      // Names start after the 12-byte header; a pointer into it (possible from the question) is never valid.
      if (target < 12) return bad('compression pointer into the header');
      if (end < 0) end = pos + 2;
      minPtr = target;
      pos = target;
      continue;
    }
    if (kind !== 0) return bad('unsupported label type');
    if (pos + 1 + len > msg.length) return bad('label runs past the end of the message');
    wireLen += len + 1;
    if (wireLen + 1 > 255) return bad('name longer than 255 octets');
    n = writeLabelText(msg, pos + 1, len, n);
    scratch[n++] = 0x2e;
    pos += len + 1;
  }
  return bad('too many labels or pointers');
}

/**
 * Where readName builds the text: one buffer decoded once per name is much
 * faster than growing a string a character at a time. 255 octets escaped as
 * \DDD at worst take 4 characters each.
 */
const scratch = Buffer.allocUnsafe(1024);

/** Bytes copied as they are: a-z, 0-9, '-', '_' (1); upper-case letters are lowered (2); anything else is escaped (0). */
const byteClass = new Uint8Array(256);
for (let c = 0x61; c <= 0x7a; c++) byteClass[c] = 1;
for (let c = 0x30; c <= 0x39; c++) byteClass[c] = 1;
byteClass[0x2d] = 1;
byteClass[0x5f] = 1;
for (let c = 0x41; c <= 0x5a; c++) byteClass[c] = 2;

/** Writes a label's lower-cased, escaped text into `scratch` at `n`; returns the new length. */
function writeLabelText(msg: Uint8Array, start: number, len: number, n: number): number {
  const stop = start + len;
  let i = start;
  // Fast path: plain lower-case bytes are copied as they are.
  for (; i < stop; i++) {
    const c = msg[i]!;
    if (byteClass[c] !== 1) break;
    scratch[n++] = c;
  }
  for (; i < stop; i++) {
    let c = msg[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) {
      scratch[n++] = c;
    } else {
      scratch[n++] = 0x5c;
      scratch[n++] = 0x30 + ((c / 100) | 0);
      scratch[n++] = 0x30 + (((c / 10) | 0) % 10);
      scratch[n++] = 0x30 + (c % 10);
    }
  }
  return n;
}

/**
 * The hot path's way to a question name without building its text. A name
 * is "plain" when it is uncompressed and every byte is a letter, digit, '-'
 * or '_' (nearly every query): its presentation text is then its wire bytes
 * lower-cased, with each label-length byte (and the final 0) read as '.', so
 * it can be hashed, compared and matched against zones in place. Measured
 * (bench/micro.ts --steady): the text was the only allocation left per
 * query, 48-74 B.
 */
let plainHash = 0;

/** FNV-1a over the presentation text, kept within a small integer (a Map key V8 hashes without boxing). */
const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5 | 0;
const HASH_MASK = 0x3fffffff;

/** A plain byte lower-cased, or 0 for a byte that is not plain (byteClass 0). */
const plainLower = new Uint8Array(256);
for (let c = 0; c < 256; c++) plainLower[c] = byteClass[c] === 1 ? c : byteClass[c] === 2 ? c | 0x20 : 0;

/**
 * Scans the plain name at `offset`: returns the offset after it, or -1 when
 * it is not plain (compressed, the root, a byte that needs escaping) or not
 * well formed; the caller then reads it with readNameText, which says why.
 * The hash of its text is lastPlainHash().
 */
export function scanPlainName(msg: Uint8Array, offset: number): number {
  let pos = offset;
  let h = FNV_OFFSET;
  const limit = msg.length;
  for (;;) {
    if (pos >= limit) return -1;
    const len = msg[pos]!;
    if (len === 0) break;
    if (len > 63 || pos + 1 + len > limit) return -1;
    const stop = pos + 1 + len;
    for (let i = pos + 1; i < stop; i++) {
      const c = plainLower[msg[i]!]!;
      if (c === 0) return -1;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    h = Math.imul(h ^ 0x2e, FNV_PRIME);
    pos = stop;
  }
  if (pos === offset || pos + 1 - offset > 255) return -1;
  plainHash = h & HASH_MASK;
  return pos + 1;
}

/** The hash of the name scanPlainName read last. */
export function lastPlainHash(): number {
  return plainHash;
}

/** The hash scanPlainName gives a name whose text is `name`; -1 when `name` is not plain (such a name is never looked up by hash). */
export function plainTextHash(name: string): number {
  let h = FNV_OFFSET;
  const n = name.length;
  if (n < 2 || name.charCodeAt(n - 1) !== 0x2e) return -1;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c !== 0x2e && (c > 0xff || plainLower[c] !== c)) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h & HASH_MASK;
}

/** Whether the plain name from `from` (a label start) to `end` reads as `text` (a canonical name), compared in place. */
function plainTailIs(msg: Uint8Array, from: number, text: string): boolean {
  let pos = from;
  let t = 0;
  for (;;) {
    const len = msg[pos]!;
    if (len === 0) return t === text.length;
    const stop = pos + 1 + len;
    for (let i = pos + 1; i < stop; i++) {
      // A plain byte equals canonical text as it is, or upper-case (| 0x20 lowers A-Z and changes no other plain byte but '_', which the first test took).
      const c = msg[i]!;
      const k = text.charCodeAt(t++);
      if (c !== k && (c | 0x20) !== k) return false;
    }
    if (text.charCodeAt(t++) !== 0x2e) return false;
    pos = stop;
  }
}

/** Whether the plain name scanned at `offset` (ending at `end`) is `name` (canonical). */
export function plainNameIs(msg: Uint8Array, offset: number, end: number, name: string): boolean {
  return name.length === end - offset - 1 && plainTailIs(msg, offset, name);
}

/** isSubdomain for the plain name scanned at `offset` (ending at `end`): whether it is `zone` (canonical) or below it. */
export function plainNameUnder(msg: Uint8Array, offset: number, end: number, zone: string): boolean {
  if (zone === '.') return true;
  // Text index t is wire byte offset + 1 + t; the zone must start at a label.
  const from = end - offset - 1 - zone.length;
  if (from < 0) return false;
  let pos = offset;
  while (pos - offset < from) pos += msg[pos]! + 1;
  return pos - offset === from && plainTailIs(msg, pos, zone);
}

/** Lower-cased label text; bytes that are not printable or are dots are \DDD-escaped (the form names have everywhere here). */
export function labelText(msg: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    let c = msg[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

/**
 * Skips the name at offset without building it (compression allowed);
 * returns the end offset, or -1 when the name runs past the end or uses an
 * unknown label type (lastNameFailure() says which).
 */
export function skipName(msg: Uint8Array, offset: number): number {
  let pos = offset;
  for (;;) {
    if (pos >= msg.length) { bad('name runs past the end of the message'); return -1; }
    const len = msg[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) { bad('truncated compression pointer'); return -1; }
      return pos + 2;
    }
    if ((len & 0xc0) !== 0) { bad('unsupported label type'); return -1; }
    pos += len + 1;
  }
}

/** Splits a presentation name into raw label byte arrays, honouring \DDD and \X escapes. */
export function nameToLabels(name: string): Uint8Array[] {
  if (name === '.' || name === '') return [];
  if (name.indexOf('\\') < 0) return plainLabels(name);
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c /* \ */) {
      const d = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(d)) { cur.push(Number(d) & 0xff); i += 3; }
      else { cur.push(name.charCodeAt(i + 1) & 0xff); i += 1; }
    } else if (ch === 0x2e /* . */) {
      labels.push(Uint8Array.from(cur));
      cur = [];
    } else {
      cur.push(ch & 0xff);
    }
  }
  if (cur.length > 0) labels.push(Uint8Array.from(cur));
  return labels;
}

/** nameToLabels for the usual name without escapes: no intermediate arrays. */
function plainLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  const n = name.length;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && name.charCodeAt(i) !== 0x2e) continue;
    if (i === n && start === n) break; // the trailing dot
    const l = new Uint8Array(i - start);
    for (let j = start; j < i; j++) l[j - start] = name.charCodeAt(j) & 0xff;
    labels.push(l);
    start = i + 1;
  }
  return labels;
}

/** Uncompressed wire form of a presentation name. Throws NameError for labels over 63 or names over 255. */
export function encodeName(name: string): Uint8Array {
  const labels = nameToLabels(name);
  let size = 1;
  for (const l of labels) {
    if (l.length === 0) throw new NameError(`empty label in '${name}'`);
    if (l.length > 63) throw new NameError(`label longer than 63 octets in '${name}'`);
    size += l.length + 1;
  }
  if (size > 255) throw new NameError(`name longer than 255 octets: '${name}'`);
  const out = new Uint8Array(size);
  let p = 0;
  for (const l of labels) { out[p++] = l.length; out.set(l, p); p += l.length; }
  out[p] = 0;
  return out;
}

/** Makes a name fully qualified and lower case: "Foo.Bar" -> "foo.bar.". */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  if (lower === '' || lower === '.') return '.';
  return lower.endsWith('.') ? lower : lower + '.';
}

/** True when `name` equals `zone` or lies below it (both canonical). */
export function isSubdomain(name: string, zone: string): boolean {
  if (zone === '.') return true;
  if (name.length === zone.length) return name === zone;
  return name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 0x2e;
}

/** Number of labels of a canonical name ("." has 0). */
export function labelCount(name: string): number {
  if (name === '.') return 0;
  let n = 0;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 0x2e) n++;
  return n;
}

/** The name without its first label ("a.b.c." -> "b.c.", "c." -> "."), honouring "\." escapes. */
export function parentName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) { i++; continue; }
    if (c === 0x2e) return i + 1 >= name.length ? '.' : name.slice(i + 1);
  }
  return '.';
}

/**
 * What follows "label." to form a name inside `zone` (canonical): the zone
 * itself, or "" for the root, so `${label}.${zoneSuffix(zone)}` never ends in "..".
 */
export function zoneSuffix(zone: string): string {
  return zone === '.' ? '' : zone;
}
