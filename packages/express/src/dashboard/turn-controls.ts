/**
 * "Approve whole turn" / "Reject whole turn" on a run's group: one `POST /requests/respond` with the
 * ids of exactly the cards the reviewer sees in the group, all or nothing. A card whose visible state
 * says something else (edits open, a note typed, an answer needed) stops the turn before anything is
 * sent; a request decided elsewhere makes the server decide nothing (409), and its card says by whom.
 */
import type { ApprovalRecord } from '@hitl/core';
import { ApiError, getJson, NetworkError, noAnswerText, postJson } from './api.js';
import type { Card } from './card.js';
import type { Wording } from './dialogs.js';
import { el, nextId } from './dom.js';

export interface TurnHost {
  decided(id: string, verb: string, toolName: string): void;
  announce(text: string): void;
  confirm(subject: string, text: string, action: () => void, wording: Wording): void;
}

export interface TurnControls {
  node: HTMLElement;
  /** The group's cards changed: counts, names and visibility follow. */
  refresh(): void;
}

const describe = (card: Card) => `${card.record.request.toolName} (${card.record.request.id})`;

function decidedText(record: ApprovalRecord): string {
  const by = record.response?.respondedBy;
  const verb = record.status === 'modified' ? 'approved with edits' : record.status;
  return `${record.request.toolName} (${record.request.id}) was already ${verb}${by ? ` by ${by}` : ''}`;
}

export function buildTurnControls(name: string, key: string, cardsOf: () => Card[], host: TurnHost): TurnControls {
  const node = el('div', { class: 'actions turn', 'data-testid': 'turn-controls' });
  const approve = el('button', { type: 'button', class: 'primary', 'data-testid': 'approve-turn-button' });
  const reject = el('button', { type: 'button', class: 'danger', 'data-testid': 'reject-turn-button' });
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'turn-error' });
  error.hidden = true;
  node.append(approve, reject);
  const wrapper = el('div', { class: 'turn-block' });
  wrapper.append(node, error);
  const n = nextId();
  approve.id = `turn-approve-${n}`;
  reject.id = `turn-reject-${n}`;

  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = !text;
  };
  /** The cards the turn decides: those shown and not already marked decided. */
  const live = () => cardsOf().filter((card) => !card.stale);

  const label = (button: HTMLButtonElement, verb: string, count: number, irreversible: boolean) => {
    const hidden = el('span', { class: 'visually-hidden' }, ` of ${name}`);
    button.replaceChildren(`${verb} whole turn (${count} request${count === 1 ? '' : 's'})${irreversible ? '…' : ''}`, hidden);
    if (irreversible) button.setAttribute('aria-haspopup', 'dialog');
    else button.removeAttribute('aria-haspopup');
  };

  const refresh = () => {
    const cards = live();
    // A request that needs an answer cannot be decided by a bare approve: no turn buttons then.
    const answerNeeded = cards.some(
      (card) =>
        card.record.request.type === 'input' || card.record.request.type === 'feedback' || card.record.request.type === 'annotation',
    );
    // Only the buttons hide: what the last attempt answered stays readable.
    node.hidden = cards.length === 0 || answerNeeded;
    label(
      approve,
      'Approve',
      cards.length,
      cards.some((card) => card.irreversible),
    );
    label(reject, 'Reject', cards.length, false);
  };

  let busy = false;
  const setBusy = (value: boolean) => {
    busy = value;
    for (const button of [approve, reject]) button.setAttribute('aria-disabled', String(value));
  };
  const send = async (decision: 'approve' | 'reject', confirmed?: string[]) => {
    if (busy) return;
    showError('');
    const cards = live();
    if (confirmed && confirmed.join() !== cards.map((card) => card.record.request.id).join()) {
      showError('Nothing was sent: the turn changed while you were confirming. Check it again.');
      return;
    }
    // What the reviewer sees in a card must be what is sent: edits or a note belong to that card alone.
    const differing = cards.filter((card) => card.unsent() !== undefined);
    if (differing.length > 0) {
      showError(
        `Nothing was sent: ${differing.map((card) => `${describe(card)} ${card.unsent() ?? ''}`).join('; ')}. Decide ${differing.length === 1 ? 'it' : 'them'} on ${differing.length === 1 ? 'its' : 'their'} own card, or clear ${differing.length === 1 ? 'it' : 'them'}.`,
      );
      return;
    }
    if (cards.length === 0) return;
    const ids = cards.map((card) => card.record.request.id);
    // Busy rather than disabled: a disabled button would drop the focus the page hands on afterwards.
    setBusy(true);
    try {
      const body = await postJson<{ items: ApprovalRecord[] }>('requests/respond', { ids, decision });
      const verb = decision === 'approve' ? 'Approved' : 'Rejected';
      for (const record of body.items) host.decided(record.request.id, verb, record.request.toolName);
      host.announce(`${verb} the whole turn: ${body.items.length} requests`);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409 && failure.ids.length > 0) {
        // Decided elsewhere: nothing of the turn was decided; the cards that changed say by whom.
        const latest = await Promise.all(
          failure.ids.map((id) => getJson<ApprovalRecord>(`requests/${encodeURIComponent(id)}`).catch(() => undefined)),
        );
        const reasons: string[] = [];
        for (const [index, id] of failure.ids.entries()) {
          const record = latest[index];
          const card = cards.find((candidate) => candidate.record.request.id === id);
          if (record && record.status !== 'pending') {
            card?.markStale(record);
            reasons.push(decidedText(record));
          } else reasons.push(`${card ? describe(card) : id} could not be decided`);
        }
        showError(`Nothing in this turn was decided: ${reasons.join('; ')}. Check the turn again.`);
      } else if (failure instanceof NetworkError) {
        showError(noAnswerText(failure, 'turn'));
      } else {
        showError(
          `Nothing in this turn was decided: ${failure instanceof Error && failure.message ? failure.message : 'the request failed.'}`,
        );
      }
      refresh();
    } finally {
      setBusy(false);
    }
  };

  approve.addEventListener('click', () => {
    if (busy) return;
    const cards = live();
    const risky = cards.filter((card) => card.irreversible);
    if (risky.length === 0) {
      void send('approve');
      return;
    }
    host.confirm(
      key,
      `Approve all ${cards.length} requests of ${name}? ${risky.map(describe).join(', ')} ${risky.length === 1 ? 'is' : 'are'} irreversible (or not rated): ${risky.length === 1 ? 'it runs' : 'they run'} at once and cannot be undone.`,
      () =>
        void send(
          'approve',
          cards.map((card) => card.record.request.id),
        ),
      { title: 'Confirm: approve the whole turn', yes: `Approve all ${cards.length} requests` },
    );
  });
  reject.addEventListener('click', () => void send('reject'));
  refresh();
  return { node: wrapper, refresh };
}
