/**
 * @module pod/amplification
 * What one lookup costs a pod: the names a glibc stub resolver tries, in
 * order, for a name given its search list and ndots (a name with fewer dots
 * than ndots walks the search list first and is tried as written last; one
 * with at least ndots dots is tried as written first; a trailing dot means
 * as written only), and the queries that makes when each try asks A and
 * AAAA. Used by `resolv-conf`, and by any diagnosis that explains a walk.
 */

export interface SearchWalk {
  /** The name as the application gave it. */
  readonly name: string;
  /** Fully qualified names tried, in order, up to and including the one that answers. */
  readonly tries: readonly string[];
  /** Whether some try answered (false: every try was NXDOMAIN). */
  readonly answered: boolean;
  /** Queries sent: tries × the record types asked per try. */
  readonly queries: number;
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** Every name the resolver may try for `name`, in order (glibc res_search). */
export function searchCandidates(name: string, searches: readonly string[], ndots: number): string[] {
  if (name.endsWith('.')) return [name];
  const dots = name.split('.').length - 1;
  const viaSearch: string[] = [];
  for (const s of searches) {
    // "." (the kubelet's search line for --resolv-conf="") and '' mean the root: the name as written.
    const suffix = s.replace(/\.$/, '');
    viaSearch.push(suffix === '' ? fqdn(name) : `${name}.${suffix}.`);
  }
  const asIs = fqdn(name);
  const all = dots >= ndots ? [asIs, ...viaSearch] : [...viaSearch, asIs];
  return [...new Set(all)];
}

/**
 * The walk for `name`: the tries until `exists` says one answers.
 * `typesPerTry` is 2 for A and AAAA (getaddrinfo with AF_UNSPEC), 1 for one family.
 */
export function searchWalk(name: string, searches: readonly string[], ndots: number, exists: (fqdn: string) => boolean, typesPerTry = 2): SearchWalk {
  const tries: string[] = [];
  let answered = false;
  for (const c of searchCandidates(name, searches, ndots)) {
    tries.push(c);
    if (exists(c)) { answered = true; break; }
  }
  return { name, tries, answered, queries: tries.length * typesPerTry };
}

/**
 * Who exists, offline: the given cluster names, and a name of two labels or more
 * outside the cluster domain when asked as written (an external name is assumed to
 * resolve; each search-suffixed guess of it, a bare single label, and the short form
 * of a known cluster name such as `kubernetes.default`, is NXDOMAIN).
 */
export function assumedExistence(name: string, clusterDomain: string, known: ReadonlySet<string>): (fqdn: string) => boolean {
  const domain = clusterDomain === '' ? null : `.${fqdn(clusterDomain)}`;
  const asIs = fqdn(name);
  const shortForm = [...known].some((k) => k.startsWith(asIs) && k !== asIs);
  return (c) => {
    if (known.has(c)) return true;
    if (c !== asIs || shortForm || c.indexOf('.') === c.length - 1) return false;
    return domain === null || !c.endsWith(domain);
  };
}

/** One sentence on the cost of `walk` and how to avoid it; '' when there is nothing to avoid. */
export function amplificationAdvice(walk: SearchWalk, ndots: number, typesPerTry = 2): string {
  const per = typesPerTry === 2 ? ' (A and AAAA)' : '';
  const wasted = walk.queries - typesPerTry;
  const head = `${walk.name}: ${walk.tries.length} ${walk.tries.length === 1 ? 'try' : 'tries'}, ${walk.queries} ${walk.queries === 1 ? 'query' : 'queries'}${per}`;
  if (!walk.answered) return `${head}, every one NXDOMAIN`;
  if (wasted <= 0) return `${head}: no search-path overhead`;
  const found = walk.tries[walk.tries.length - 1]!;
  if (found !== fqdn(walk.name)) {
    // Found through a search suffix: the full name skips the misses before it.
    return `${head}, ${wasted} of them NXDOMAIN; avoid them by asking for ${found} (full name, trailing dot), or autopath on the server`;
  }
  const dots = walk.name.split('.').length - 1;
  const lower = dots > 0 ? `, a lower ndots (ndots:${dots} tries it first; now ndots:${ndots})` : '';
  return `${head}, ${wasted} of them NXDOMAIN; avoid them with a trailing dot (${fqdn(walk.name)})${lower}, or autopath on the server`;
}
