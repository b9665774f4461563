// The memory store's grants: a map in this process, uses counted synchronously (so `evaluate` can decide by a grant with no await).
import { HitlError } from '../hitl-error.js';
import type { ApprovalStoreGrants, Grant, GrantChange, GrantQuery } from './grant-types.js';
import { isGrantLive, matchesGrantQuery } from './grant-validation.js';

/** The grant methods of the memory store, plus `insert` for `decideMany`'s grant and `clear` for `close`. */
export interface MemoryGrants extends Required<Omit<ApprovalStoreGrants, 'decideMany'>> {
  /** Stores a grant and tells listeners; throws `conflict` for a duplicate id. */
  insert(grant: Grant): Grant;
  /** Throws `conflict` when `insert` would. */
  checkNew(grant: Grant): void;
  clear(): void;
}

function frozenCopy(grant: Grant): Grant {
  const copy: Grant = { ...grant, scope: Object.freeze({ ...grant.scope }) };
  return Object.freeze(copy);
}

/** Grants in a map; `ensureOpen` throws when the store is closed. */
export function createMemoryGrants(ensureOpen: () => void): MemoryGrants {
  const grants = new Map<string, Grant>();
  const order: string[] = [];
  const listeners = new Set<(change: GrantChange) => void>();

  const emit = (change: GrantChange) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own.
      }
    }
  };

  const checkNew = (grant: Grant) => {
    if (grants.has(grant.id)) throw new HitlError('conflict', `grant '${grant.id}' already exists`, { details: { ids: [grant.id] } });
  };

  const insert = (grant: Grant): Grant => {
    checkNew(grant);
    const stored = frozenCopy({ ...grant, uses: 0 });
    grants.set(stored.id, stored);
    order.push(stored.id);
    emit({ type: 'grant-created', grant: stored });
    return stored;
  };

  const useGrantNow = (id: string, atMs: number): Grant | undefined => {
    ensureOpen();
    const current = grants.get(id);
    if (current === undefined || !isGrantLive(current, atMs)) return undefined;
    const next = frozenCopy({ ...current, uses: current.uses + 1 });
    grants.set(id, next);
    return next;
  };

  return {
    insert,
    checkNew,
    async createGrant(grant: Grant) {
      ensureOpen();
      return insert(grant);
    },
    async getGrant(id: string) {
      ensureOpen();
      return grants.get(id);
    },
    async revokeGrant(id: string, { revokedBy, revokedAt }) {
      ensureOpen();
      const current = grants.get(id);
      if (current === undefined) throw new HitlError('not_found', `grant '${id}' does not exist`, { details: { ids: [id] } });
      if (current.revokedAt !== undefined) return current;
      const next = frozenCopy({ ...current, revokedAt, revokedBy });
      grants.set(id, next);
      emit({ type: 'grant-revoked', grant: next });
      return next;
    },
    async listGrants(query: GrantQuery & { at: string }) {
      ensureOpen();
      const atMs = Date.parse(query.at);
      const limit = query.limit ?? 100;
      const items: Grant[] = [];
      for (let index = order.length - 1; index >= 0 && items.length < limit; index--) {
        const grant = grants.get(order[index] as string) as Grant;
        if (matchesGrantQuery(grant, query, atMs)) items.push(grant);
      }
      return items;
    },
    async useGrant(id: string, at: string) {
      return useGrantNow(id, Date.parse(at));
    },
    useGrantNow,
    subscribeGrants(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    clear() {
      listeners.clear();
    },
  };
}
