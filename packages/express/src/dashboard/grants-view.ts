/**
 * The Grants tab: the remembered decisions in force (tool pattern, effect, scope, uses, expiry, who
 * granted and why), each with Revoke; kept current by the `grant-created` / `grant-revoked` events.
 */
import { ApiError, deleteJson, getJson, type Grant } from './api.js';
import { byId, el, nextId } from './dom.js';
import { formatTime } from './format.js';

export interface GrantsView {
  /** Loads the active grants again; called when the tab opens. */
  refresh(): Promise<void>;
  /** A grant event from the stream. */
  apply(type: 'grant-created' | 'grant-revoked', grant: Grant): void;
  /** A request was decided by a grant: its count of uses changed (read again while the tab is open). */
  used(grantId: string): void;
}

const effectText = (grant: Grant) => (grant.effect === 'approve' ? 'always allow' : 'never allow');

function scopeText(grant: Grant): string {
  const parts: string[] = [];
  if (grant.scope.threadId) parts.push(`thread ${grant.scope.threadId}`);
  if (grant.scope.runId) parts.push(`run ${grant.scope.runId}`);
  if (grant.scope.requestedBy) parts.push(`requested by ${grant.scope.requestedBy}`);
  return parts.length ? parts.join(', ') : 'everywhere';
}

const usesText = (grant: Grant) =>
  grant.maxUses === undefined ? `${grant.uses} times (no limit)` : `${grant.uses} of ${grant.maxUses} times`;

function isActive(grant: Grant, now = Date.now()): boolean {
  if (grant.revokedAt) return false;
  if (grant.expiresAt && !(Date.parse(grant.expiresAt) > now)) return false;
  return grant.maxUses === undefined || grant.uses < grant.maxUses;
}

export function createGrantsView(announce: (text: string) => void): GrantsView {
  const list = byId<HTMLUListElement>('grants');
  const empty = byId('grants-empty');
  const notice = byId('grants-notice');
  const grants = new Map<string, Grant>();
  let loaded = false;
  let generation = 0;

  const showNotice = (text: string) => {
    notice.textContent = text;
    notice.hidden = !text;
  };

  const entry = (grant: Grant): HTMLLIElement => {
    const titleId = `grant-title-${nextId()}`;
    const item = el('li', { class: 'card', 'data-testid': 'grant-entry', 'data-grant-id': grant.id, 'aria-labelledby': titleId });
    const head = el('div', { class: 'card-head' });
    head.appendChild(el('h3', { id: titleId, 'data-testid': 'grant-tool' }, grant.toolPattern));
    head.appendChild(el('span', { class: `badge effect-${grant.effect}`, 'data-testid': 'grant-effect' }, effectText(grant)));
    item.appendChild(head);
    const facts = el('dl', { class: 'facts' });
    const fact = (label: string, value: string, testid: string) => {
      facts.appendChild(el('dt', null, label));
      facts.appendChild(el('dd', { 'data-testid': testid }, value));
    };
    fact('Where', scopeText(grant), 'grant-scope');
    if (grant.when) fact('Only when', grant.when, 'grant-when');
    fact('Used', usesText(grant), 'grant-uses');
    fact('Expires', grant.expiresAt ? formatTime(grant.expiresAt) : 'never (until revoked)', 'grant-expiry');
    fact('Granted by', grant.grantedBy, 'grant-by');
    fact('Granted', formatTime(grant.createdAt), 'grant-created');
    if (grant.reason) fact('Why', grant.reason, 'grant-reason');
    fact('Grant id', grant.id, 'grant-id');
    facts.lastElementChild?.setAttribute('id', `${titleId}-ref`);
    item.appendChild(facts);

    const actions = el('div', { class: 'actions' });
    const revoke = el('button', { type: 'button', class: 'danger', 'data-testid': 'revoke-button', id: `revoke-${nextId()}` }, 'Revoke');
    // "Revoke send_email <grant id>": distinct for every grant.
    revoke.setAttribute('aria-labelledby', `${revoke.id} ${titleId} ${titleId}-ref`);
    const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'grant-error' });
    error.hidden = true;
    actions.appendChild(revoke);
    item.append(actions, error);
    revoke.addEventListener('click', () => {
      revoke.disabled = true;
      error.hidden = true;
      deleteJson<Grant>(`grants/${encodeURIComponent(grant.id)}`)
        .then((revoked) => {
          remove(revoked.id ?? grant.id);
          announce(`Revoked: ${effectText(grant)} ${grant.toolPattern}, ${scopeText(grant)}`);
        })
        .catch((failure: unknown) => {
          if (failure instanceof ApiError && (failure.status === 404 || failure.status === 409)) {
            // Revoked (or gone) already: the list drops it and says so.
            remove(grant.id);
            announce(`That grant was already revoked: ${grant.toolPattern}`);
            return;
          }
          revoke.disabled = false;
          error.textContent = failure instanceof Error && failure.message ? failure.message : 'The request failed.';
          error.hidden = false;
        });
    });
    return item;
  };

  const nodes = new Map<string, HTMLLIElement>();
  const refreshEmpty = () => {
    empty.hidden = !loaded || grants.size !== 0;
  };
  /** Shows `grant`: a new one on top (`prepend`), a listed one in the server's order (newest first). */
  const add = (grant: Grant, prepend = true) => {
    if (!isActive(grant)) {
      remove(grant.id);
      return;
    }
    grants.set(grant.id, grant);
    const node = entry(grant);
    const previous = nodes.get(grant.id);
    nodes.set(grant.id, node);
    if (previous) previous.replaceWith(node);
    else if (prepend) list.prepend(node);
    else list.append(node);
    refreshEmpty();
  };
  function remove(id: string) {
    grants.delete(id);
    nodes.get(id)?.remove();
    nodes.delete(id);
    refreshEmpty();
  }

  async function refresh(): Promise<void> {
    const mine = ++generation;
    try {
      const body = await getJson<{ items: Grant[] }>('grants?active=true');
      if (mine !== generation) return;
      loaded = true;
      showNotice('');
      // Reconciled in place (focus on a Revoke button stays): gone ones go, listed ones get their count of uses.
      const listed = new Set(body.items.map((grant) => grant.id));
      for (const id of Array.from(grants.keys())) if (!listed.has(id)) remove(id);
      for (const grant of body.items) {
        const node = nodes.get(grant.id);
        if (!node || !isActive(grant)) {
          add(grant, false);
          continue;
        }
        grants.set(grant.id, grant);
        const uses = node.querySelector('[data-testid="grant-uses"]');
        if (uses) uses.textContent = usesText(grant);
      }
      refreshEmpty();
    } catch (failure) {
      if (mine !== generation) return;
      showNotice(`Could not load the grants: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  }

  let usedTimer: ReturnType<typeof setTimeout> | undefined;
  return {
    refresh,
    used(grantId) {
      if (!loaded || !grants.has(grantId) || list.closest('[hidden]') || usedTimer !== undefined) return;
      // Several calls decided at once are read back once.
      usedTimer = setTimeout(() => {
        usedTimer = undefined;
        void refresh();
      }, 200);
    },
    apply(type, grant) {
      if (!grant?.id) return;
      if (type === 'grant-revoked') remove(grant.id);
      else if (loaded) add(grant);
    },
  };
}
