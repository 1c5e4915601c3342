/**
 * @module cluster/label-selector
 * Kubernetes label selectors in their string form (`labels` and
 * `namespace_labels` options): `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, requirements joined by commas
 * (all must hold). Same grammar and validation as apimachinery's
 * labels.Parse, so a selector that works with kubectl works here.
 */

export type SelectorOperator = 'exists' | 'notexists' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Values for in/notin (`=` is `in` with one value, `!=` is `notin`); the number for gt/lt. */
  readonly values: readonly string[];
}

export class LabelSelectorError extends Error {}

/** A parsed selector; `matches` is cheap (no allocation). */
export class LabelSelector {
  readonly requirements: readonly Requirement[];
  /** The selector as written. */
  readonly text: string;

  constructor(requirements: readonly Requirement[], text: string) {
    this.requirements = requirements;
    this.text = text;
  }

  /** True when there are no requirements: everything matches. */
  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    const reqs = this.requirements;
    for (let i = 0; i < reqs.length; i++) {
      if (!matchOne(reqs[i]!, labels)) return false;
    }
    return true;
  }
}

function matchOne(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = has ? labels[r.key]! : '';
  switch (r.operator) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && r.values.includes(v);
    case 'notin':
      return !has || !r.values.includes(v);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      const limit = Number(r.values[0]);
      return r.operator === 'gt' ? n > limit : n < limit;
    }
  }
}

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Validates a label key: `[prefix/]name`, name at most 63 characters, prefix a DNS subdomain. */
export function validateLabelKey(key: string): string | null {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix === '' || prefix.length > 253 || !DNS1123_SUBDOMAIN_RE.test(prefix))) {
    return `invalid label key "${key}": prefix must be a DNS subdomain`;
  }
  if (name === '' || name.length > 63 || !NAME_RE.test(name)) {
    return `invalid label key "${key}": name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric`;
  }
  return null;
}

/** Validates a label value: empty, or up to 63 characters of [A-Za-z0-9-_.] with alphanumeric ends. */
export function validateLabelValue(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63 || !NAME_RE.test(value)) {
    return `invalid label value "${value}": must be at most 63 characters of [A-Za-z0-9-_.], starting and ending with an alphanumeric`;
  }
  return null;
}

type Tok =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' }
  | { t: 'end' };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '=' || c === '!') {
      if (text[i + 1] === '=') { out.push({ t: 'op', v: c === '=' ? '==' : '!=' }); i += 2; continue; }
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '>' || c === '<' || c === '(' || c === ')' || c === ',') {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !' \t\n\r=!><(),'.includes(text[j]!)) j++;
    out.push({ t: 'id', v: text.slice(i, j) });
    i = j;
  }
  out.push({ t: 'end' });
  return out;
}

/** Parses a selector; throws LabelSelectorError with a readable message. */
export function parseLabelSelector(text: string): LabelSelector {
  const toks = tokenize(text);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  const isOp = (tok: Tok, v: string): boolean => tok.t === 'op' && tok.v === v;
  const reqs: Requirement[] = [];
  if (peek().t === 'end') return new LabelSelector(reqs, text);
  for (;;) {
    let negate = false;
    if (isOp(peek(), '!')) { next(); negate = true; }
    const keyTok = next();
    if (keyTok.t !== 'id') throw new LabelSelectorError(`invalid selector "${text}": expected a label key`);
    const key = keyTok.v;
    const keyErr = validateLabelKey(key);
    if (keyErr) throw new LabelSelectorError(keyErr);
    const opTok = peek();
    if (negate) {
      if (!(opTok.t === 'end' || isOp(opTok, ','))) throw new LabelSelectorError(`invalid selector "${text}": '!${key}' takes no operator`);
      reqs.push({ key, operator: 'notexists', values: [] });
    } else if (opTok.t === 'end' || isOp(opTok, ',')) {
      reqs.push({ key, operator: 'exists', values: [] });
    } else if (opTok.t === 'op' && (opTok.v === '=' || opTok.v === '==' || opTok.v === '!=')) {
      next();
      const valTok = peek();
      let value = '';
      if (valTok.t === 'id') { value = valTok.v; next(); }
      else if (!(valTok.t === 'end' || isOp(valTok, ','))) throw new LabelSelectorError(`invalid selector "${text}": expected a value after '${opTok.v}'`);
      const valErr = validateLabelValue(value);
      if (valErr) throw new LabelSelectorError(valErr);
      reqs.push({ key, operator: opTok.v === '!=' ? 'notin' : 'in', values: [value] });
    } else if (opTok.t === 'op' && (opTok.v === '>' || opTok.v === '<')) {
      next();
      const valTok = next();
      if (valTok.t !== 'id' || !/^-?\d+$/.test(valTok.v)) {
        throw new LabelSelectorError(`invalid selector "${text}": '${opTok.v}' needs a whole number`);
      }
      reqs.push({ key, operator: opTok.v === '>' ? 'gt' : 'lt', values: [valTok.v] });
    } else if (opTok.t === 'id' && (opTok.v === 'in' || opTok.v === 'notin')) {
      next();
      if (!isOp(next(), '(')) throw new LabelSelectorError(`invalid selector "${text}": expected '(' after '${opTok.v}'`);
      const values: string[] = [];
      for (;;) {
        const v = peek();
        if (v.t === 'id') {
          next();
          const valErr = validateLabelValue(v.v);
          if (valErr) throw new LabelSelectorError(valErr);
          values.push(v.v);
        } else if (isOp(v, ',') || isOp(v, ')')) {
          values.push(''); // an empty value between commas, as apimachinery allows
        } else {
          throw new LabelSelectorError(`invalid selector "${text}": expected a value or ')'`);
        }
        const sep = next();
        if (isOp(sep, ')')) break;
        if (!isOp(sep, ',')) throw new LabelSelectorError(`invalid selector "${text}": expected ',' or ')'`);
      }
      if (values.length === 1 && values[0] === '') {
        throw new LabelSelectorError(`invalid selector "${text}": '${opTok.v}' needs at least one value`);
      }
      reqs.push({ key, operator: opTok.v === 'in' ? 'in' : 'notin', values });
    } else {
      throw new LabelSelectorError(`invalid selector "${text}": unexpected '${opTok.t === 'id' ? opTok.v : opTok.t === 'op' ? opTok.v : ''}' after '${key}'`);
    }
    const sep = next();
    if (sep.t === 'end') break;
    if (!isOp(sep, ',')) throw new LabelSelectorError(`invalid selector "${text}": expected ',' between requirements`);
    if (peek().t === 'end') throw new LabelSelectorError(`invalid selector "${text}": trailing ','`);
  }
  return new LabelSelector(reqs, text);
}
