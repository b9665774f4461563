// Internals other hitl packages share on purpose (like tRPC's unstable-core-do-not-import): not a
// public API, may change in any release. Import from '@hitl/core/internal'.
export { normalizeListQuery, matchesListQuery } from './memory-store.js';
