// The memory store's grants: a map in this process, uses counted synchronously (so `evaluate` can decide by a grant with no await).
import { HitlError } from '../hitl-error.js';
import type { ApprovalStoreGrants, Grant, GrantChange, GrantQuery } from './grant-types.js';
import { matchesGrantQuery } from './grant-validation.js';

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

/** A stored grant: a frozen snapshot handed out, and the live use count (a use does not copy the grant). */
interface Entry {
  snapshot: Grant;
  uses: number;
  readonly expiresAtMs: number;
}

/** Grants in a map; `ensureOpen` throws when the store is closed. */
export function createMemoryGrants(ensureOpen: () => void): MemoryGrants {
  const grants = new Map<string, Entry>();
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

  /** The grant as stored now (a new frozen snapshot only when its uses changed since the last one). */
  const read = (entry: Entry): Grant => {
    if (entry.snapshot.uses !== entry.uses) entry.snapshot = frozenCopy({ ...entry.snapshot, uses: entry.uses });
    return entry.snapshot;
  };

  const checkNew = (grant: Grant) => {
    if (grants.has(grant.id)) throw new HitlError('conflict', `grant '${grant.id}' already exists`, { details: { ids: [grant.id] } });
  };

  const insert = (grant: Grant): Grant => {
    checkNew(grant);
    const snapshot = frozenCopy({ ...grant, uses: 0 });
    grants.set(snapshot.id, {
      snapshot,
      uses: 0,
      expiresAtMs: snapshot.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(snapshot.expiresAt),
    });
    order.push(snapshot.id);
    emit({ type: 'grant-created', grant: snapshot });
    return snapshot;
  };

  const useGrantNow = (id: string, atMs: number): boolean => {
    ensureOpen();
    const entry = grants.get(id);
    if (entry === undefined || entry.snapshot.revokedAt !== undefined || entry.expiresAtMs <= atMs) return false;
    const { maxUses } = entry.snapshot;
    if (maxUses !== undefined && entry.uses >= maxUses) return false;
    entry.uses += 1;
    return true;
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
      const entry = grants.get(id);
      return entry === undefined ? undefined : read(entry);
    },
    async revokeGrant(id: string, { revokedBy, revokedAt }) {
      ensureOpen();
      const entry = grants.get(id);
      if (entry === undefined) throw new HitlError('not_found', `grant '${id}' does not exist`, { details: { ids: [id] } });
      if (entry.snapshot.revokedAt !== undefined) return read(entry);
      entry.snapshot = frozenCopy({ ...entry.snapshot, uses: entry.uses, revokedAt, revokedBy });
      emit({ type: 'grant-revoked', grant: entry.snapshot });
      return entry.snapshot;
    },
    async listGrants(query: GrantQuery & { at: string }) {
      ensureOpen();
      const atMs = Date.parse(query.at);
      const limit = query.limit ?? 100;
      const items: Grant[] = [];
      for (let index = order.length - 1; index >= 0 && items.length < limit; index--) {
        const grant = read(grants.get(order[index] as string) as Entry);
        if (matchesGrantQuery(grant, query, atMs)) items.push(grant);
      }
      return items;
    },
    async useGrant(id: string, at: string) {
      if (!useGrantNow(id, Date.parse(at))) return undefined;
      return read(grants.get(id) as Entry);
    },
    useGrantNow,
    async releaseGrantUse(id: string) {
      ensureOpen();
      const entry = grants.get(id);
      if (entry === undefined || entry.uses === 0) return undefined;
      entry.uses -= 1;
      return read(entry);
    },
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
