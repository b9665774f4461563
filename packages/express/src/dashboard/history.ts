/**
 * The history tab: decided requests, newest first, with filters (thread, run and creation time,
 * applied by the server; tool, outcome and reviewer, applied to what was loaded) and a search over
 * tool, description, reasons, feedback and arguments. Each entry says who decided
 * what, when, why, and the arguments that ran.
 */
import type { ApprovalRecord } from '@hitl/core';
import { contextOf, getJson, listPath, matchesFilter, type ListPage } from './api.js';
import { byId, el } from './dom.js';
import { createFilterBar } from './filter-bar.js';
import { formatTime, pretty } from './format.js';

export interface History {
  /** Loads (again) the first page; called when the tab opens. */
  refresh(): Promise<void>;
  /** A record decided while the page is open. */
  add(record: ApprovalRecord): void;
}

export function createHistory(showNotice: (text: string) => void): History {
  const list = byId<HTMLUListElement>('history');
  const empty = byId('history-empty');
  const more = byId<HTMLButtonElement>('history-more');
  const tool = byId<HTMLSelectElement>('filter-tool');
  const outcome = byId<HTMLSelectElement>('filter-status');
  const reviewer = byId<HTMLInputElement>('filter-reviewer');
  const search = byId<HTMLInputElement>('filter-search');
  const records = new Map<string, ApprovalRecord>();
  let cursor: string | undefined;
  /** Thread, run and time: filters the server applies (`GET /requests`); the others filter what was loaded. */
  const serverFilter = createFilterBar('history', () => void refresh());

  const matches = (record: ApprovalRecord): boolean => {
    if (!matchesFilter(record, serverFilter.value)) return false;
    if (tool.value && record.request.toolName !== tool.value) return false;
    if (outcome.value && record.status !== outcome.value) return false;
    const by = (record.response?.respondedBy ?? '').toLowerCase();
    if (reviewer.value.trim() && !by.includes(reviewer.value.trim().toLowerCase())) return false;
    const needle = search.value.trim().toLowerCase();
    if (!needle) return true;
    const haystack = [
      record.request.toolName,
      record.request.description ?? '',
      record.evaluation?.reason ?? '',
      record.response?.feedback ?? '',
      record.closedReason ?? '',
      JSON.stringify(record.request.input ?? {}),
      JSON.stringify(record.response?.modified ?? {}),
    ]
      .join('\n')
      .toLowerCase();
    return haystack.includes(needle);
  };

  const entry = (record: ApprovalRecord): HTMLLIElement => {
    const item = el('li', { class: 'card', 'data-testid': 'history-entry', 'data-request-id': record.request.id });
    const head = el('div', { class: 'card-head' });
    head.appendChild(el('h3', null, record.request.toolName));
    const verb = record.status === 'modified' ? 'approved with edits' : record.status;
    head.appendChild(el('span', { class: `badge status-${record.status}`, 'data-testid': 'history-status' }, verb));
    item.appendChild(head);
    const facts = el('dl', { class: 'facts' });
    const fact = (label: string, value: string, testid?: string) => {
      facts.appendChild(el('dt', null, label));
      facts.appendChild(el('dd', testid ? { 'data-testid': testid } : null, value));
    };
    const response = record.response;
    fact('Decided by', response?.respondedBy ?? (response?.automatic ? 'policy (automatic)' : '—'), 'history-by');
    fact('When', formatTime(response?.respondedAt ?? record.closedAt));
    fact('Why', response?.feedback ?? record.closedReason ?? record.evaluation?.reason ?? '—', 'history-why');
    if (record.request.requestedBy) fact('Requested by', record.request.requestedBy);
    const context = contextOf(record);
    if (context.threadId) fact('Thread', context.threadId, 'history-thread');
    if (context.runId) fact('Run', context.runId, 'history-run');
    fact('Request id', record.request.id);
    item.appendChild(facts);
    const ran = record.status === 'modified' ? response?.modified : record.status === 'approved' ? record.request.input : undefined;
    item.appendChild(el('p', { class: 'section-label' }, ran === undefined ? 'Arguments (did not run)' : 'Arguments that ran'));
    item.appendChild(el('pre', { 'data-testid': 'history-arguments' }, pretty(ran ?? record.request.input)));
    return item;
  };

  const render = () => {
    const shown = [...records.values()]
      .filter(matches)
      .sort((a, b) => Date.parse(b.closedAt ?? b.createdAt) - Date.parse(a.closedAt ?? a.createdAt));
    list.replaceChildren(...shown.map(entry));
    empty.hidden = shown.length !== 0;
    const tools = [...new Set([...records.values()].map((record) => record.request.toolName))].sort();
    const chosen = tool.value;
    tool.replaceChildren(el('option', { value: '' }, 'All tools'), ...tools.map((name) => el('option', { value: name }, name)));
    tool.value = tools.includes(chosen) ? chosen : '';
  };

  let generation = 0;
  const loadPage = async (from: string | undefined) => {
    const mine = generation;
    try {
      const page = await getJson<ListPage>(listPath({ limit: '200', cursor: from, ...serverFilter.value }));
      // The filters changed while this page was on its way: a newer load answers for them.
      if (mine !== generation) return;
      for (const record of page.items) if (record.status !== 'pending') records.set(record.request.id, record);
      cursor = page.nextCursor;
      more.hidden = cursor === undefined;
      render();
    } catch (failure) {
      showNotice(`Could not load the history: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  };

  for (const control of [tool, outcome]) control.addEventListener('change', render);
  for (const control of [reviewer, search]) control.addEventListener('input', render);
  more.addEventListener('click', () => void loadPage(cursor));

  function refresh(): Promise<void> {
    generation += 1;
    records.clear();
    return loadPage(undefined);
  }

  return {
    refresh,
    add(record) {
      if (record.status === 'pending') return;
      records.set(record.request.id, record);
      if (!list.closest('[hidden]')) render();
    },
  };
}
