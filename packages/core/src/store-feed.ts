/** The manager's subscription to its store's change feed: events, waiters, expiry and lost replies follow every change. */
import { approvalAddedEvent } from './four-eyes.js';
import type { ApprovalRecord, ApprovalStore, ManagerEvent, StoreChange } from './types.js';

export interface StoreFeedHandlers {
  emit(event: ManagerEvent): void;
  /** A request's create was seen (by this or another manager). */
  created(record: ApprovalRecord): void;
  /** A request left `pending`. */
  decided(record: ApprovalRecord): void;
}

/**
 * Subscribes to `store` and turns each change into `request-created`, `request-approval-added` and the final-status events,
 * then the handlers. Returns the unsubscribe function.
 */
export function subscribeStoreFeed(store: ApprovalStore, { emit, created, decided }: StoreFeedHandlers): () => void {
  return store.subscribe((change: StoreChange) => {
    const { record } = change;
    if (change.type === 'created') {
      emit({ type: 'request-created', record });
      created(record);
    }
    // Four eyes: each approval is news (the last one just before its `request-decided`); a record
    // first seen with approvals (a feed that coalesced its changes) reports its latest one.
    const approvalAdded = approvalAddedEvent(record);
    if (approvalAdded) emit(approvalAdded);
    if (record.status === 'pending') return;
    decided(record);
  });
}
