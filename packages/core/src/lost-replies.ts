/**
 * Lost-reply follow-up: writes of this manager that failed with `store_unavailable` may have
 * committed with only their reply lost (a dropped connection). The request ids it tried to create
 * and the decision ids it tried to record are remembered; if the news arrives later — through the
 * store's change feed, or a retry that finds the write — the follow-up it missed (notify reviewers,
 * run the decision hook) runs then, once.
 */
import type { ApprovalRecord } from './types.js';

/** How many unacknowledged writes a manager remembers; the oldest is forgotten first. */
const UNCLAIMED_LIMIT = 10_000;

export interface LostReplies {
  /** A create of request `id` failed with `store_unavailable`. */
  rememberCreate(id: string): void;
  /** A decision `decisionId` failed with `store_unavailable`. */
  rememberDecision(decisionId: string): void;
  /** The request turned up: run its create follow-up if its create was unacknowledged. */
  claimCreate(record: ApprovalRecord): void;
  /** The decision turned up: run its follow-up if it was unacknowledged. */
  claimDecision(record: ApprovalRecord): void;
  clear(): void;
}

export function createLostReplies({
  followUpCreate,
  followUpDecision,
}: {
  followUpCreate: (record: ApprovalRecord) => void;
  followUpDecision: (record: ApprovalRecord) => void;
}): LostReplies {
  const unclaimedCreates = new Set<string>();
  const unclaimedDecisions = new Set<string>();
  const remember = (set: Set<string>, key: string) => {
    set.add(key);
    if (set.size > UNCLAIMED_LIMIT) set.delete(set.values().next().value as string);
  };

  return {
    rememberCreate: (id) => remember(unclaimedCreates, id),
    rememberDecision: (decisionId) => remember(unclaimedDecisions, decisionId),
    claimCreate(record) {
      if (unclaimedCreates.delete(record.request.id)) followUpCreate(record);
    },
    claimDecision(record) {
      const decisionId = record.response?.decisionId;
      if (decisionId !== undefined && unclaimedDecisions.delete(decisionId)) followUpDecision(record);
    },
    clear() {
      unclaimedCreates.clear();
      unclaimedDecisions.clear();
    },
  };
}
