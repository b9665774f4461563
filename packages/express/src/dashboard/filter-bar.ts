/**
 * A row of filter fields (thread, run, and on History created after/before) whose values are sent
 * to `GET /requests` as its server-side filters. Applied when a field is committed (Enter or
 * leaving it); "Clear filters" empties them.
 */
import type { ContextFilter } from './api.js';
import { byId } from './dom.js';

export interface FilterBar {
  /** The filter applied now. */
  readonly value: ContextFilter;
  /** Whether any field is set. */
  readonly active: boolean;
  /** Fills the fields and applies them ("show this thread"). */
  set(filter: ContextFilter): void;
}

/** A `datetime-local` value (the reviewer's local time) as ISO 8601, or undefined when empty. */
function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

/** A UTC instant as a `datetime-local` value in the reviewer's local time. */
function isoToLocal(iso: string | undefined): string {
  if (!iso) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '';
  return new Date(time.getTime() - time.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

/** The fields `#<prefix>-thread`, `-run`, `-after`, `-before` (the last two optional) and `-clear`. */
export function createFilterBar(prefix: string, onChange: (filter: ContextFilter) => void): FilterBar {
  const thread = byId<HTMLInputElement>(`${prefix}-thread`);
  const run = byId<HTMLInputElement>(`${prefix}-run`);
  const after = document.getElementById(`${prefix}-after`) as HTMLInputElement | null;
  const before = document.getElementById(`${prefix}-before`) as HTMLInputElement | null;
  const clear = byId<HTMLButtonElement>(`${prefix}-clear`);
  const fields = [thread, run, after, before].filter((field): field is HTMLInputElement => field !== null);
  let current: ContextFilter = {};

  const read = (): ContextFilter => {
    const filter: ContextFilter = {};
    const threadId = thread.value.trim();
    const runId = run.value.trim();
    const createdAfter = localToIso(after?.value ?? '');
    const createdBefore = localToIso(before?.value ?? '');
    if (threadId) filter.threadId = threadId;
    if (runId) filter.runId = runId;
    if (createdAfter) filter.createdAfter = createdAfter;
    if (createdBefore) filter.createdBefore = createdBefore;
    return filter;
  };
  const update = () => {
    const next = read();
    clear.hidden = Object.keys(next).length === 0;
    if (JSON.stringify(next) === JSON.stringify(current)) return;
    current = next;
    onChange(current);
  };

  for (const field of fields) {
    field.addEventListener('change', update);
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') update();
    });
  }
  clear.hidden = true;
  clear.addEventListener('click', () => {
    for (const field of fields) field.value = '';
    update();
    thread.focus();
  });

  return {
    get value() {
      return current;
    },
    get active() {
      return Object.keys(current).length !== 0;
    },
    set(filter) {
      thread.value = filter.threadId ?? '';
      run.value = filter.runId ?? '';
      if (after) after.value = isoToLocal(filter.createdAfter);
      if (before) before.value = isoToLocal(filter.createdBefore);
      update();
    },
  };
}
