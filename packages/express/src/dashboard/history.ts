/**
 * The history tab: decided requests, newest first, with filters. Tool, outcome, thread, run and the
 * time the request was asked are applied by the server (`GET /requests`), so they find old decisions
 * too; reviewer and a search over tool, description, reasons, feedback and arguments look only in the
 * decisions loaded, and the page says so. Each entry says who decided what, when, why, and the
 * arguments that ran.
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
  const tool = byId<HTMLInputElement>('filter-tool');
  const toolNames = byId<HTMLDataListElement>('filter-tool-names');
  const outcome = byId<HTMLSelectElement>('filter-status');
  const reviewer = byId<HTMLInputElement>('filter-reviewer');
  const search = byId<HTMLInputElement>('filter-search');
  const scope = byId('history-scope');
  const records = new Map<string, ApprovalRecord>();
  /** Tool names seen, offered as the tool field's suggestions (any exact name can be typed). */
  const knownTools = new Set<string>();
  let cursor: string | undefined;
  /** Thread, run and time: filters the server applies (`GET /requests`), with tool and outcome below. */
  const serverFilter = createFilterBar('history', () => void refresh());
  /** The tool and outcome applied now (a tool name counts once committed: Enter, leaving the field, or a suggestion picked). */
  let applied: { toolName?: string; status?: string } = {};

  /** Whether `record` passes the filters the server applies (for decisions that arrive live). */
  const matchesServer = (record: ApprovalRecord): boolean =>
    matchesFilter(record, serverFilter.value) &&
    (!applied.toolName || record.request.toolName === applied.toolName) &&
    (!applied.status || record.status === applied.status);

  const matches = (record: ApprovalRecord): boolean => {
    if (!matchesServer(record)) return false;
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

  /** What reviewer and search looked in: the decisions loaded, and whether older ones are left to load. */
  const describeScope = () => {
    const active = reviewer.value.trim() !== '' || search.value.trim() !== '';
    scope.hidden = !active;
    if (!active) return;
    const loaded = [...records.values()].filter(matchesServer).length;
    const decisions = `${loaded} decision${loaded === 1 ? '' : 's'}`;
    scope.textContent =
      cursor === undefined
        ? `Reviewer and search looked in all ${decisions} that match the other filters.`
        : `Reviewer and search look only in the ${decisions} loaded; load older decisions to search further.`;
  };

  const render = () => {
    const shown = [...records.values()]
      .filter(matches)
      .sort((a, b) => Date.parse(b.closedAt ?? b.createdAt) - Date.parse(a.closedAt ?? a.createdAt));
    list.replaceChildren(...shown.map(entry));
    empty.hidden = shown.length !== 0;
    describeScope();
    const before = knownTools.size;
    for (const record of records.values()) knownTools.add(record.request.toolName);
    if (knownTools.size !== before) toolNames.replaceChildren(...[...knownTools].sort().map((name) => el('option', { value: name })));
  };

  let generation = 0;
  const loadPage = async (from: string | undefined) => {
    const mine = generation;
    try {
      const query = listPath({ limit: '200', cursor: from, ...serverFilter.value, ...applied });
      const page = await getJson<ListPage>(query);
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

  /** Tool and outcome changed: the server answers for them (older decisions included). */
  const applyServerFields = () => {
    const next: { toolName?: string; status?: string } = {};
    const toolName = tool.value.trim();
    if (toolName) next.toolName = toolName;
    if (outcome.value) next.status = outcome.value;
    if (next.toolName === applied.toolName && next.status === applied.status) return;
    applied = next;
    void refresh();
  };
  outcome.addEventListener('change', applyServerFields);
  tool.addEventListener('change', applyServerFields);
  tool.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') applyServerFields();
  });
  // A suggestion picked from the list is a whole name: applied at once.
  tool.addEventListener('input', (event) => {
    if (!(event instanceof InputEvent) || event.inputType === 'insertReplacementText') applyServerFields();
  });
  for (const control of [reviewer, search]) control.addEventListener('input', render);
  more.addEventListener('click', () => void loadPage(cursor));

  function refresh(): Promise<void> {
    generation += 1;
    records.clear();
    // The next page of the old filters is not the next page of these.
    cursor = undefined;
    more.hidden = true;
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
