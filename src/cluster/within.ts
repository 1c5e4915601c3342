/**
 * @module cluster/within
 * "Has this happened within N ms?" for the sources' waitForSync: true once
 * the promise resolves, false when the time runs out first. The timer is
 * always cleared, so a waiting start-up never holds the process open.
 */
export async function within(event: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs)); });
  try {
    return await Promise.race([event.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
