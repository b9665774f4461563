// Which change of each record was delivered last: a bounded LRU that lets a change feed drop
// duplicates, whichever way (own write, notification, catch-up read) a change arrives first.

/** The last delivered change sequence number per record id, forgetting the least recently used. */
export interface DeliveredChanges {
  get(id: string): bigint | undefined;
  remember(id: string, changeSeq: bigint): void;
}

export function createDeliveredChanges(limit: number): DeliveredChanges {
  /** Oldest first: a Map keeps insertion order, and `remember` re-inserts. */
  const delivered = new Map<string, bigint>();
  return {
    get: (id) => delivered.get(id),
    remember(id, changeSeq) {
      delivered.delete(id);
      delivered.set(id, changeSeq);
      if (delivered.size > limit) {
        const oldest = delivered.keys().next();
        if (!oldest.done) delivered.delete(oldest.value);
      }
    },
  };
}
