/**
 * The reviewer dashboard's script: loads the pending requests, follows them live over SSE, groups
 * them by thread and run (a run's group decides the whole turn), and wires the tabs, shortcuts,
 * dialogs and the Grants tab. Everything that comes from a request is untrusted model output and is
 * only ever written with `textContent`. (Over 300 lines: the card window, its groups and the
 * list's loading share the page's state.)
 */
import type { ApprovalRecord } from '@hitl/core';
import { contextOf, getJson, listPath, matchesFilter, resolveLink, type ListPage } from './api.js';
import { buildCard, type Card } from './card.js';
import { createDialogs } from './dialogs.js';
import { byId, el } from './dom.js';
import { createFilterBar } from './filter-bar.js';
import { formatLeft } from './format.js';
import { createGrantsView } from './grants-view.js';
import { createHistory } from './history.js';
import { hasMoreApprovals } from './quorum.js';
import { createTabs, installShortcuts } from './page-controls.js';
import { startStream } from './stream.js';
import { buildTurnControls, type TurnControls } from './turn-controls.js';

const list = byId<HTMLUListElement>('requests');
const empty = byId('empty');
const countEl = byId('pending-count');
const notice = byId('notice');
const announcer = byId('announcer');
const whoami = byId('whoami');

/** Every pending request the page knows of; only the newest `limit` (and any newer arrival) have a card. */
const pending = new Map<string, ApprovalRecord>();
/** Cards in the page: a window over `pending`, so 1,000 pending requests stay fast. */
const cards = new Map<string, Card>();
const PAGE = 100;
/** Cards drawn with the first answer; the window then grows to `PAGE` in steps of this many, one task each. */
const SCREEN = 20;
let limit = SCREEN;
let growTimer: ReturnType<typeof setTimeout> | undefined;
const more = byId<HTMLButtonElement>('show-more');
const closedIds = new Set<string>();
/** A thread/run group: its list item (in `list`) and the list of its cards. */
const groups = new Map<
  string,
  { node: HTMLLIElement; list: HTMLUListElement; createdMs: number; size: number; title: HTMLElement; turn?: TurnControls }
>();
let selected: string | undefined;
let loadGeneration = 0;
/** The list is being loaded again for new filters: the page says so instead of "no match". */
let reloading = false;

const showNotice = (text: string) => {
  notice.textContent = text;
  notice.hidden = !text;
};
const announce = (text: string) => {
  announcer.textContent = text;
};
const history = createHistory(showNotice);
const grantsView = createGrantsView(announce);
const dialogs = createDialogs();
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
  // While the window grows on its own, "Show more" waits.
  more.hidden = hidden <= 0 || limit < PAGE;
  more.textContent = `Show ${Math.min(PAGE, hidden)} more of ${hidden} not shown`;
};

/** The oldest card shown, in ms, cached (a removal clears it); arrivals older than it wait behind "Show more" once the window is full. */
let oldestCache: number | undefined;
function oldestShownMs(): number {
  if (oldestCache === undefined) {
    oldestCache = Infinity;
    for (const card of cards.values()) oldestCache = Math.min(oldestCache, card.createdMs);
  }
  return oldestCache;
}

function render(record: ApprovalRecord, live: boolean) {
  const card = buildCard(record, { decided, announce, showThread, confirm: dialogs.confirm, staled: (stale) => refreshTurn(stale.record) });
  cards.set(record.request.id, card);
  if (oldestCache !== undefined) oldestCache = Math.min(oldestCache, card.createdMs);
  insertByTime(containerFor(record, card.createdMs), card.node, card.createdMs);
  refreshTurn(record);
  const left = formatLeft(record.expiresAt);
  card.timeLeft.textContent = left.text;
  card.timeLeft.setAttribute('data-urgent', String(left.urgent));
  if (live) announce(`New request: ${record.request.toolName}`);
}

/** After the first screen is drawn and the list counted: the rest of the window, a screenful per task (input stays responsive). */
function growWindow() {
  if (growTimer !== undefined || limit >= PAGE) return;
  growTimer = setTimeout(() => {
    growTimer = undefined;
    limit = Math.min(PAGE, Math.max(limit, cards.size) + SCREEN);
    fill();
    refreshCount();
    growWindow();
  }, 0);
}

/** Fills the window up to `limit` cards with the newest pending requests not shown yet. */
function fill() {
  if (cards.size >= limit || cards.size === pending.size) return;
  const waiting = Array.from(pending.values())
    .filter((record) => !cards.has(record.request.id))
    .map((record) => ({ record, at: Date.parse(record.createdAt) }))
    .sort((a, b) => b.at - a.at);
  for (const { record } of waiting.slice(0, limit - cards.size)) render(record, false);
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
    node.append(title);
    // A run is one agent turn: it can be decided as a whole (exactly the cards shown in it).
    const turn = context.runId
      ? buildTurnControls(parts.join(', '), key, () => cardsIn(inner), { decided, announce, confirm: dialogs.confirm })
      : undefined;
    if (turn) node.append(turn.node);
    node.append(inner);
    group = { node, list: inner, createdMs, size: 0, title, turn };
    groups.set(key, group);
    insertByTime(list, node, createdMs);
  }
  group.size += 1;
  group.title.setAttribute('data-count', String(group.size));
  return group.list;
}

/** The cards in `container`, in the order shown. */
function cardsIn(container: HTMLElement): Card[] {
  return Array.from(container.querySelectorAll<HTMLElement>('[data-testid="request-card"]'))
    .map((node) => cards.get(node.getAttribute('data-request-id') ?? ''))
    .filter((card): card is Card => card !== undefined);
}

/** A group's turn controls follow its cards (after the card is in or out of the page). */
function refreshTurn(record: ApprovalRecord) {
  const key = groupKey(record);
  if (key !== undefined) groups.get(key)?.turn?.refresh();
}

function removeCard(id: string) {
  pending.delete(id);
  const card = cards.get(id);
  if (!card) {
    refreshCount();
    return;
  }
  cards.delete(id);
  oldestCache = undefined;
  card.node.remove();
  const key = groupKey(card.record);
  const group = key === undefined ? undefined : groups.get(key);
  if (key !== undefined && group) {
    group.size -= 1;
    if (group.size === 0) {
      // Focus on the group's own controls (a whole turn was decided) goes to the next request.
      const hadFocus = document.activeElement instanceof Node && group.node.contains(document.activeElement);
      const next = group.node.nextElementSibling ?? group.node.previousElementSibling;
      group.node.remove();
      groups.delete(key);
      dialogs.dismiss(key);
      if (hadFocus) handFocus(next);
    } else group.turn?.refresh();
  }
  if (selected === id) selected = undefined;
  fill();
  refreshCount();
}

/** Focuses the first card in (or at) `node`, else the page's heading. */
function handFocus(node: Element | null) {
  const target = node?.matches('[data-testid="request-card"]') ? node : node?.querySelector('[data-testid="request-card"]');
  const card = cards.get(target?.getAttribute('data-request-id') ?? '');
  if (card) select(card);
  else byId('pending-heading').focus();
}

/** The cards in the order shown. */
function orderedCards(): Card[] {
  return cardsIn(list);
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
  if (dialogs.dismiss(id)) announce('The request you were confirming was decided elsewhere.');
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

/** Applies one record from the list or the stream; `batch` leaves the count to the caller (one update per page). */
function apply(record: ApprovalRecord | undefined, live: boolean, batch = false) {
  if (!record?.request) return;
  const id = record.request.id;
  if (record.status !== 'pending') {
    closedIds.add(id);
    history.add(record);
    const grant = record.evaluation?.grant ?? record.response?.metadata?.grant;
    if (typeof grant === 'string') grantsView.used(grant);
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
  if (live) arrivedLive.add(id);
  // Newer than what is shown (a live arrival), or room left in the window: it gets a card now.
  if (cards.size < limit || Date.parse(record.createdAt) > oldestShownMs()) render(record, live);
  if (!batch) refreshCount();
}

/** Requests that arrived on the stream while the list was loading: the list's snapshot may predate them. */
const arrivedLive = new Set<string>();

async function load() {
  const generation = ++loadGeneration;
  const seen = new Set<string>();
  arrivedLive.clear();
  try {
    let cursor: string | undefined;
    // The first page is one screen of cards (drawn at once); the rest is counted from larger pages.
    for (let pages = 1; pages <= 21; pages += 1) {
      const size = pages === 1 ? SCREEN : 500;
      const body = await getJson<ListPage>(listPath({ status: 'pending', limit: String(size), cursor, ...pendingFilter.value }));
      if (generation !== loadGeneration) return;
      for (const record of body.items) {
        seen.add(record.request.id);
        apply(record, false, true);
      }
      refreshCount();
      cursor = body.nextCursor;
      if (!cursor) {
        // Requests that are no longer pending disappeared while the stream was away.
        for (const id of Array.from(pending.keys())) if (!seen.has(id) && !arrivedLive.has(id)) removeCard(id);
        growWindow();
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
  limit = SCREEN;
  selected = undefined;
  reloading = true;
  refreshCount();
  void load();
}

async function loadIdentity() {
  try {
    const me = await getJson<{ id: string; signOutUrl?: string }>('me');
    whoami.replaceChildren('Signed in as ', el('strong', { 'data-testid': 'whoami-id' }, me.id));
    // The router's signOutUrl, when it has one: a plain link to the app's sign-out page.
    const signOut = typeof me.signOutUrl === 'string' ? resolveLink(me.signOutUrl) : undefined;
    if (signOut) whoami.append(' ', el('a', { href: signOut.toString(), 'data-testid': 'sign-out' }, 'Sign out'));
  } catch {
    whoami.textContent = 'Not signed in';
  }
}

more.addEventListener('click', () => {
  limit = cards.size + PAGE;
  fill();
  refreshCount();
});

const tabs = createTabs((id) => {
  if (id === 'tab-history') void history.refresh();
  if (id === 'tab-grants') void grantsView.refresh();
});
installShortcuts({ dialogs, orderedCards, selected: () => selected, select });

/** A card's "Show only this thread": the pending tab, filtered by the server to that thread. */
function showThread(threadId: string) {
  tabs.show('tab-pending');
  pendingFilter.set({ threadId });
  announce(`Showing only thread ${threadId}`);
}

refreshCount();
setInterval(tick, 1000);
void loadIdentity();
startStream({
  record: (record) => apply(record, true),
  grant: (type, grant) => grantsView.apply(type, grant),
  ready: (resumed) => {
    if (!resumed) void load();
  },
  // The stream does not say why it was refused; the list request shows it (401, 403...).
  closed: () => void load(),
});
