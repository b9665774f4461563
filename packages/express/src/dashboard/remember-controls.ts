/**
 * A card's remembered decisions: "Allow in this thread" (approve, and allow this tool from now on in
 * the request's thread), "Always allow" and "Never allow" (approve or reject, and remember it for this
 * tool everywhere). Each one is a single `POST /requests/:id/respond` with `remember`, so the grant
 * exists only if this very decision was recorded: a request decided elsewhere gets a 409 and no grant.
 */
import type { ApprovalRecord } from '@hitl/core';
import type { Remember } from './api.js';
import { el, nameAfterCard } from './dom.js';
import { approvalsRequired } from './quorum.js';

/** How a remembered decision is confirmed: the dialog's title and its confirming button's label. */
export interface ConfirmWording {
  title: string;
  yes: string;
}

export interface RememberContext {
  record: ApprovalRecord;
  threadId: string | undefined;
  titleId: string;
  /** Asks first for an irreversible (or unrated) call. */
  irreversible: boolean;
  /** The note typed in the card, sent with the decision. */
  note(): string;
  /** Sends `payload` to `respond`; `done` is announced; errors show next to `near`. */
  send(payload: Record<string, unknown>, done: string, near: HTMLElement): void;
  confirm(text: string, action: () => void, wording: ConfirmWording): void;
}

export interface RememberControls {
  node: HTMLElement;
  buttons: HTMLButtonElement[];
}

interface Choice {
  testid: string;
  label: string;
  decision: 'approve' | 'reject';
  remember: Remember;
  /** What it does, in the words shown under the buttons and read with each. */
  hint: string;
  done: string;
  wording: ConfirmWording;
}

export function buildRememberControls(context: RememberContext): RememberControls {
  const tool = context.record.request.toolName;
  // Four eyes: remembering an approval makes it one approval of each call it covers, not all of them.
  const allow = (where: string) =>
    approvalsRequired(context.record) > 1
      ? `adds your approval to this call, and from now on counts as your approval of every ${tool} call in ${where} (those waiting too); each still needs its other approvers`
      : `approves this call, and from now on every ${tool} call in ${where} (those waiting too) without asking`;
  const choices: Choice[] = [];
  if (context.threadId) {
    choices.push({
      testid: 'allow-thread-button',
      label: 'Allow in this thread',
      decision: 'approve',
      remember: { scope: 'thread' },
      hint: allow(`thread ${context.threadId}`),
      done: 'Approved and allowed in this thread',
      wording: { title: 'Confirm: allow in this thread', yes: 'Approve and allow in this thread' },
    });
  }
  choices.push(
    {
      testid: 'always-button',
      label: 'Always allow',
      decision: 'approve',
      remember: { scope: 'global' },
      hint: allow('any thread'),
      done: 'Approved and always allowed',
      wording: { title: 'Confirm: always allow', yes: 'Approve and always allow' },
    },
    {
      testid: 'never-button',
      label: 'Never allow',
      decision: 'reject',
      remember: { scope: 'global' },
      hint: `rejects this call, and from now on every new ${tool} call in any thread without asking`,
      done: 'Rejected and never allowed',
      wording: { title: 'Confirm: never allow', yes: 'Reject and never allow' },
    },
  );

  const node = el('div', { class: 'actions remember', 'data-testid': 'remember-controls' });
  // Read with each button (and shown on hover): what remembering means, in full.
  const hints = el('ul', { class: 'visually-hidden', 'data-testid': 'remember-hints' });
  const buttons: HTMLButtonElement[] = [];
  for (const choice of choices) {
    const button = el('button', { type: 'button', 'data-testid': choice.testid }, context.irreversible ? `${choice.label}…` : choice.label);
    if (context.irreversible) button.setAttribute('aria-haspopup', 'dialog');
    nameAfterCard(button, context.titleId);
    const hint = el('li', null, `${choice.label}: ${choice.hint}. Revoke it in Grants.`);
    hint.id = `${button.id}-hint`;
    button.setAttribute('aria-describedby', hint.id);
    button.title = `${choice.label}: ${choice.hint}.`;
    hints.appendChild(hint);
    button.addEventListener('click', () => {
      const sendNow = () => {
        const payload: Record<string, unknown> = { decision: choice.decision, remember: choice.remember };
        const note = context.note();
        if (note) payload.feedback = note;
        context.send(payload, choice.done, node);
      };
      if (!context.irreversible) {
        sendNow();
        return;
      }
      const risk =
        context.record.request.riskLevel === 'irreversible'
          ? `${tool} is irreversible: what it does cannot be undone`
          : `The risk of ${tool} was not given, so it is treated as irreversible`;
      context.confirm(
        `${choice.label}: ${choice.hint}. ${risk}.`,
        () => {
          // Decided elsewhere while the dialog was open: the card says so, and nothing is sent.
          if (!button.disabled) sendNow();
        },
        choice.wording,
      );
    });
    buttons.push(button);
  }
  node.append(...buttons);
  const wrapper = el('div', { class: 'remember-block' });
  wrapper.append(node, hints);
  return { node: wrapper, buttons };
}
