/**
 * @module test/support/fake-apiserver-selectors
 * Label and field selector matching for the fake API server: equality-based
 * (`=`, `==`, `!=`) and set-based (`in`, `notin`, `key`, `!key`) label
 * selectors, and `field=value` / `field!=value` field selectors (comma AND)
 * on dotted object paths such as status.phase.
 */

export type Matcher = (obj: unknown) => boolean;

function labelsOf(obj: unknown): Record<string, string> {
  const meta = (obj as { metadata?: { labels?: unknown } } | null)?.metadata;
  const labels = meta?.labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}

/** Splits at commas outside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out.filter((t) => t !== '');
}

const KEY = /^[A-Za-z0-9._\/-]+$/;

/** Parses a label selector; throws on syntax it does not know. */
export function parseLabelSelector(text: string): Matcher {
  const tests: Matcher[] = [];
  for (const term of splitTerms(text)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^!\s*([^\s=!]+)$/)) !== null) {
      const key = m[1] ?? '';
      tests.push((o) => !(key in labelsOf(o)));
    } else if ((m = term.match(/^([^\s=!(]+)\s+(in|notin)\s*\(([^)]*)\)$/)) !== null) {
      const [, key = '', op, list = ''] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      tests.push(op === 'in'
        ? (o) => { const v = labelsOf(o)[key]; return v !== undefined && values.has(v); }
        : (o) => { const v = labelsOf(o)[key]; return v === undefined || !values.has(v); });
    } else if ((m = term.match(/^([^\s=!]+)\s*(==|=|!=)\s*([^\s=!]*)$/)) !== null) {
      const [, key = '', op, value] = m;
      tests.push(op === '!='
        ? (o) => labelsOf(o)[key] !== value
        : (o) => key in labelsOf(o) && labelsOf(o)[key] === value);
    } else if (KEY.test(term)) {
      tests.push((o) => term in labelsOf(o));
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(term)}`);
    }
  }
  return (o) => tests.every((t) => t(o));
}

function fieldOf(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string' ? cur : cur === undefined || cur === null ? '' : String(cur);
}

/** Parses a field selector (comma-separated `path=value`, `path==value`, `path!=value`). */
export function parseFieldSelector(text: string): Matcher {
  const tests: Matcher[] = [];
  for (const term of splitTerms(text)) {
    const m = term.match(/^([A-Za-z0-9._]+)\s*(==|=|!=)\s*(.*)$/);
    if (m === null) throw new Error(`invalid field selector: ${JSON.stringify(term)}`);
    const [, path = '', op, value] = m;
    tests.push(op === '!=' ? (o) => fieldOf(o, path) !== value : (o) => fieldOf(o, path) === value);
  }
  return (o) => tests.every((t) => t(o));
}
