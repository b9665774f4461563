/**
 * The reviewer dashboard's script: loads the pending requests, follows them live over SSE, groups
 * them by thread and run, and wires the tabs, keyboard shortcuts and dialogs. Everything that comes
 * from a request is untrusted model output and is only ever written with `textContent`.
 * (Over 300 lines: the card window, stream and shortcuts share the page's state; the shortcuts and
 * dialogs are the next part to move into their own module.)
 */
import type { ApprovalRecord } from '@hitl/core';
import { contextOf, getJson, listPath, matchesFilter, url, type ListPage } from './api.js';
import { buildCard, type Card } from './card.js';
import { byId, el } from './dom.js';
import { createFilterBar } from './filter-bar.js';
import { formatLeft } from './format.js';
import { createHistory } from './history.js';
import { hasMoreApprovals } from './quorum.js';

const list = byId<HTMLUListElement>('requests');
const empty = byId('empty');
const statusEl = byId('connection-status');
const countEl = byId('pending-count');
const notice = byId('notice');
const announcer = byId('announcer');
const whoami = byId('whoami');

/** Every pending request the page knows of; only the newest `limit` (and any newer arrival) have a card. */
const pending = new Map<string, ApprovalRecord>();
/** Cards in the page: a window over `pending`, so 1,000 pending requests stay fast. */
const cards = new Map<string, Card>();
const PAGE = 100;
let limit = PAGE;
const more = byId<HTMLButtonElement>('show-more');
const closedIds = new Set<string>();
/** A thread/run group: its list item (in `list`) and the list of its cards. */
const groups = new Map<string, { node: HTMLLIElement; list: HTMLUListElement; createdMs: number; size: number; title: HTMLElement }>();
let selected: string | undefined;
let source: EventSource | undefined;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let loadGeneration = 0;
/** The list is being loaded again for new filters: the page says so instead of "no match". */
let reloading = false;

const setStatus = (state: string, text: string) => {
  statusEl.setAttribute('data-state', state);
  statusEl.textContent = text;
};
const showNotice = (text: string) => {
  notice.textContent = text;
  notice.hidden = !text;
};
const announce = (text: string) => {
  announcer.textContent = text;
};
const history = createHistory(showNotice);
/** Thread and run filters of the pending list, applied by the server (`GET /requests`) and to live arrivals. */
const pendingFilter = createFilterBar('pending', () => reloadPending());

const refreshCount = () => {
  const n = pending.size;
  const filtered = pendingFilter.active ? ' (filtered)' : '';
  countEl.textContent = `${n} pending${filtered}`;
  empty.hidden = n !== 0;
  empty.textContent = reloading
    ? 'Loading the pending requests…'
    : pendingFilter.active
    ? 'No pending request matches the filters.'
    : 'No pending requests. New ones appear here as soon as an agent asks.';
  const hidden = n - cards.size;
  more.hidden = hidden <= 0;
  more.textContent = `Show ${Math.min(PAGE, hidden)} more of ${hidden} not shown`;
};

/** The oldest card shown, in ms; arrivals older than it wait behind "Show more" once the window is full. */
function oldestShownMs(): number {
  let oldest = Infinity;
  for (const card of cards.values()) oldest = Math.min(oldest, card.createdMs);
  return oldest;
}

function render(record: ApprovalRecord, live: boolean) {
  const card = buildCard(record, { decided, announce, showThread, confirm: askToConfirm });
  cards.set(record.request.id, card);
  insertByTime(containerFor(record, card.createdMs), card.node, card.createdMs);
  const left = formatLeft(record.expiresAt);
  card.timeLeft.textContent = left.text;
  card.timeLeft.setAttribute('data-urgent', String(left.urgent));
  if (live) announce(`New request: ${record.request.toolName}`);
}

/** Fills the window up to `limit` cards with the newest pending requests not shown yet. */
function fill() {
  if (cards.size >= limit || cards.size === pending.size) return;
  const waiting = Array.from(pending.values())
    .filter((record) => !cards.has(record.request.id))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  for (const record of waiting.slice(0, limit - cards.size)) render(record, false);
}

const tick = () => {
  const now = Date.now();
  for (const card of cards.values()) {
    const left = formatLeft(card.record.expiresAt, now);
    if (card.timeLeft.textContent !== left.text) card.timeLeft.textContent = left.text;
    card.timeLeft.setAttribute('data-urgent', String(left.urgent));
  }
};

/** Inserts `node` into `container` newest first (children carry `data-created`, in ms). */
function insertByTime(container: HTMLElement, node: HTMLElement, createdMs: number) {
  node.setAttribute('data-created', String(createdMs));
  const last = container.lastElementChild;
  // The list arrives newest first: the common case is an append.
  if (!last || Number(last.getAttribute('data-created')) >= createdMs) {
    container.appendChild(node);
    return;
  }
  for (const child of Array.from(container.children)) {
    if (Number(child.getAttribute('data-created')) < createdMs) {
      container.insertBefore(node, child);
      return;
    }
  }
  container.appendChild(node);
}

function groupKey(record: ApprovalRecord): string | undefined {
  const context = contextOf(record);
  if (!context.threadId && !context.runId) return undefined;
  return JSON.stringify([context.threadId ?? null, context.runId ?? null]);
}

function containerFor(record: ApprovalRecord, createdMs: number): HTMLElement {
  const key = groupKey(record);
  if (key === undefined) return list;
  let group = groups.get(key);
  if (!group) {
    const context = contextOf(record);
    const node = el('li', { class: 'group', 'data-testid': 'request-group' });
    const parts = [context.threadId ? `Thread ${context.threadId}` : '', context.runId ? `run ${context.runId}` : ''].filter(Boolean);
    const title = el('h2', { 'data-testid': 'group-title' }, parts.join(' · '));
    node.setAttribute('aria-label', parts.join(', '));
    const inner = el('ul', { 'aria-label': `Requests of ${parts.join(', ')}` });
    node.append(title, inner);
    group = { node, list: inner, createdMs, size: 0, title };
    groups.set(key, group);
    insertByTime(list, node, createdMs);
  }
  group.size += 1;
  group.title.setAttribute('data-count', String(group.size));
  return group.list;
}

function removeCard(id: string) {
  pending.delete(id);
  const card = cards.get(id);
  if (!card) {
    refreshCount();
    return;
  }
  cards.delete(id);
  card.node.remove();
  const key = groupKey(card.record);
  const group = key === undefined ? undefined : groups.get(key);
  if (key !== undefined && group) {
    group.size -= 1;
    if (group.size === 0) {
      group.node.remove();
      groups.delete(key);
    }
  }
  if (selected === id) selected = undefined;
  fill();
  refreshCount();
}

/** The cards in the order shown. */
function orderedCards(): Card[] {
  return Array.from(list.querySelectorAll<HTMLElement>('[data-testid="request-card"]'))
    .map((node) => cards.get(node.getAttribute('data-request-id') ?? ''))
    .filter((card): card is Card => card !== undefined);
}

function select(card: Card | undefined, focus = true) {
  for (const other of cards.values()) other.node.removeAttribute('data-selected');
  selected = card?.record.request.id;
  if (!card) return;
  card.node.setAttribute('data-selected', 'true');
  if (focus) card.node.focus();
}

/** Removes a card; when focus was in it, focus goes to the next card (or the previous one), never to the page's top. */
function closeCard(id: string) {
  if (confirmFor === id && confirmDialog.open) {
    confirmDialog.close();
    announce('The request you were confirming was decided elsewhere.');
  }
  const card = cards.get(id);
  if (!card) {
    closedIds.add(id);
    removeCard(id);
    return;
  }
  const order = orderedCards();
  const index = order.indexOf(card);
  const next = order[index + 1] ?? order[index - 1];
  const hadFocus = document.activeElement instanceof Node && card.node.contains(document.activeElement);
  const wasSelected = selected === id;
  closedIds.add(id);
  removeCard(id);
  // Never steal focus from where the reviewer is typing: only a focused card hands focus on.
  if (hadFocus) {
    if (next) select(next);
    else byId('pending-heading').focus();
  } else if (wasSelected && next) select(next, false);
}

/** The reviewer decided `id` from its card (the stream may have removed the card already). */
function decided(id: string, verb: string, toolName: string) {
  closeCard(id);
  announce(`${verb}: ${toolName}`);
}

function apply(record: ApprovalRecord | undefined, live: boolean) {
  if (!record?.request) return;
  const id = record.request.id;
  if (record.status !== 'pending') {
    closedIds.add(id);
    history.add(record);
    closeCard(id);
    return;
  }
  const shown = pending.get(id);
  if (shown && hasMoreApprovals(record, shown)) {
    // Four eyes: another approval of a request still pending.
    pending.set(id, record);
    cards.get(id)?.update(record);
    return;
  }
  if (closedIds.has(id) || pending.has(id) || !matchesFilter(record, pendingFilter.value)) return;
  pending.set(id, record);
  // Newer than what is shown (a live arrival), or room left in the window: it gets a card now.
  if (cards.size < limit || Date.parse(record.createdAt) > oldestShownMs()) render(record, live);
  refreshCount();
}

async function load() {
  const generation = ++loadGeneration;
  const seen = new Set<string>();
  try {
    let cursor: string | undefined;
    for (let pages = 1; pages <= 20; pages += 1) {
      const body = await getJson<ListPage>(listPath({ status: 'pending', limit: '500', cursor, ...pendingFilter.value }));
      if (generation !== loadGeneration) return;
      for (const record of body.items) {
        seen.add(record.request.id);
        apply(record, false);
      }
      cursor = body.nextCursor;
      if (!cursor) {
        // Requests that are no longer pending disappeared while the stream was away.
        for (const id of Array.from(pending.keys())) if (!seen.has(id)) removeCard(id);
        break;
      }
    }
    showNotice('');
  } catch (failure) {
    showNotice(`Could not load the pending requests: ${failure instanceof Error ? failure.message : String(failure)}`);
  } finally {
    if (generation === loadGeneration && reloading) {
      reloading = false;
      refreshCount();
    }
  }
}

/** The filters changed: the list starts over from the server's answer for them. */
function reloadPending() {
  for (const id of Array.from(cards.keys())) cards.get(id)?.node.remove();
  for (const group of groups.values()) group.node.remove();
  cards.clear();
  groups.clear();
  pending.clear();
  limit = PAGE;
  selected = undefined;
  reloading = true;
  refreshCount();
  void load();
}

function connect() {
  if (reconnectTimer) clearTimeout(reconnectTimer);
  reconnectTimer = undefined;
  setStatus('connecting', 'Connecting…');
  const stream = new EventSource(url('events'), { withCredentials: true });
  source = stream;
  const onRecord = (event: MessageEvent<string>) => {
    let data: { record?: ApprovalRecord };
    try {
      data = JSON.parse(event.data) as { record?: ApprovalRecord };
    } catch {
      return;
    }
    apply(data.record, true);
  };
  for (const type of ['request-created', 'request-decided', 'request-expired', 'request-cancelled', 'request-approval-added']) {
    stream.addEventListener(type, onRecord);
  }
  stream.addEventListener('ready', (event: MessageEvent<string>) => {
    setStatus('live', 'Live');
    let data: { resumed?: boolean } = {};
    try {
      data = JSON.parse(event.data) as { resumed?: boolean };
    } catch {
      data = {};
    }
    if (!data.resumed) void load();
  });
  stream.addEventListener('error', () => {
    if (stream.readyState === EventSource.CLOSED) {
      setStatus('offline', navigator.onLine ? 'Disconnected, retrying…' : 'Offline, retrying…');
      stream.close();
      // The stream does not say why it was refused; the list request shows it (401, 403...).
      void load();
      reconnectTimer = setTimeout(connect, 5000);
    } else {
      setStatus('connecting', navigator.onLine ? 'Reconnecting…' : 'Offline: decisions cannot be sent; reconnecting…');
    }
  });
}

async function loadIdentity() {
  try {
    const me = await getJson<{ id: string }>('me');
    whoami.replaceChildren('Signed in as ', el('strong', { 'data-testid': 'whoami-id' }, me.id));
  } catch {
    whoami.textContent = 'Not signed in';
  }
}

more.addEventListener('click', () => {
  limit = cards.size + PAGE;
  fill();
  refreshCount();
});

// Tabs: Pending and History.
const tabs = [byId<HTMLButtonElement>('tab-pending'), byId<HTMLButtonElement>('tab-history')];
function showTab(tab: HTMLButtonElement) {
  for (const other of tabs) {
    const active = other === tab;
    other.setAttribute('aria-selected', String(active));
    other.tabIndex = active ? 0 : -1;
    byId(other.getAttribute('aria-controls') ?? '').hidden = !active;
  }
  if (tab.id === 'tab-history') void history.refresh();
}
for (const tab of tabs) {
  tab.addEventListener('click', () => showTab(tab));
  tab.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const other = tabs[(tabs.indexOf(tab) + 1) % tabs.length];
    if (other) {
      showTab(other);
      other.focus();
    }
  });
}

// Dialogs: keyboard help, and the confirmation of irreversible approvals made by keyboard.
const help = byId<HTMLDialogElement>('help');
byId('help-button').addEventListener('click', () => help.showModal());
byId('help-close').addEventListener('click', () => help.close());
const confirmDialog = byId<HTMLDialogElement>('confirm');
const confirmText = byId('confirm-text');
let confirmAction: (() => void) | undefined;
/** The request whose approval the dialog asks about. */
let confirmFor: string | undefined;
function askToConfirm(requestId: string, text: string, action: () => void) {
  confirmText.textContent = text;
  confirmAction = action;
  confirmFor = requestId;
  confirmDialog.showModal();
  byId('confirm-no').focus();
}
confirmDialog.addEventListener('close', () => {
  confirmAction = undefined;
  confirmFor = undefined;
});
byId('confirm-yes').addEventListener('click', () => {
  const action = confirmAction;
  confirmDialog.close();
  action?.();
});
byId('confirm-no').addEventListener('click', () => confirmDialog.close());

/** A card's "Show only this thread": the pending tab, filtered by the server to that thread. */
function showThread(threadId: string) {
  const pendingTab = tabs[0];
  if (pendingTab) showTab(pendingTab);
  pendingFilter.set({ threadId });
  announce(`Showing only thread ${threadId}`);
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (help.open || confirmDialog.open || byId('pending-view').hidden) return;
  const order = orderedCards();
  const index = order.findIndex((card) => card.record.request.id === selected);
  const current = index === -1 ? undefined : order[index];
  if (event.key === 'j' || event.key === 'k') {
    const step = event.key === 'j' ? 1 : -1;
    select(order[index === -1 ? 0 : Math.min(order.length - 1, Math.max(0, index + step))]);
  } else if (event.key === 'a' && current?.approve) {
    // The card's Approve asks first for an irreversible (or unrated) call, as it does when clicked.
    current.approve();
  } else if (event.key === 'r' && current?.reject) {
    current.reject();
  } else if (event.key === '?') {
    help.showModal();
  } else return;
  event.preventDefault();
});

window.addEventListener('online', () => {
  if (!source || source.readyState === EventSource.CLOSED) connect();
});
window.addEventListener('offline', () => setStatus('offline', 'Offline: decisions cannot be sent'));

refreshCount();
setInterval(tick, 1000);
void loadIdentity();
connect();
