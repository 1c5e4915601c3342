/**
 * @module plugins/kubernetes/generations
 * The counters cached answers are checked against: one pair per namespace
 * and one per service view. A store change bumps only the counters it
 * affects; an answer built when a counter had another value is stale.
 * Their own file so the answer cache, the service views and the index can
 * all use them without importing each other.
 */

/** Generations of one namespace: `gen` for its existence and labels, `negGen` for the set of its services and pods. */
export class NamespaceScope {
  gen = 0;
  negGen = 0;
}

/** A generation holder for one service view; cached names keep this, not the view and its endpoints. */
export class ViewToken {
  gen = 0;
}
