/**
 * One pending request as a card: what the agent wants (tool, description, arguments, risk,
 * confidence, policy, who asked, context, expiry) and the controls that decide it. A control only
 * ever sends what its label and the visible state say: while the editor is open the plain Approve
 * is hidden; a card whose request was decided elsewhere is marked stale and its controls disabled.
 * What it shows of the request is card-view.ts; here are the controls. (Over 300 lines: the
 * approval, remember and answer controls share the card's error line, its send and its stale state.)
 */
import type { ApprovalRecord } from '@hitl/core';
import { ApiError, getJson, NetworkError, noAnswerText, postJson } from './api.js';
import { cardLabel, el, nameAfterCard, nextId } from './dom.js';
import { appendCardView } from './card-view.js';
import { buildEditBody } from './edit-body.js';
import { isIrreversible } from './format.js';
import { buildRememberControls, type ConfirmWording } from './remember-controls.js';
import { approvalsRequired, buildQuorumLine, updateQuorumLine } from './quorum.js';

export interface CardHost {
  /** The request was decided from this card. */
  decided(id: string, verb: string, toolName: string): void;
  announce(text: string): void;
  /** The card was marked as decided elsewhere (its turn's controls count it out). */
  staled(card: Card): void;
  /** Shows only the pending requests of this thread (the filter of `GET /requests`). */
  showThread(threadId: string): void;
  /** Asks the reviewer to confirm `text` in the page's dialog; `action` runs only on its confirming button (worded by `wording`). */
  confirm(requestId: string, text: string, action: () => void, wording?: ConfirmWording): void;
}

export interface Card {
  node: HTMLLIElement;
  record: ApprovalRecord;
  timeLeft: HTMLElement;
  createdMs: number;
  /** The keyboard's `a` and `r`: the same as the visible buttons, or nothing when none is offered. */
  approve?: () => void;
  reject?: () => void;
  /** Whether approving runs something that cannot be undone (its Approve, and so `a`, confirm first). */
  irreversible: boolean;
  /** Shows newer news of the still-pending request (another approval in). */
  update(record: ApprovalRecord): void;
  /** Marked as decided elsewhere: its controls are disabled and it says by whom. */
  stale: boolean;
  markStale(latest: ApprovalRecord): void;
  /** What the card shows that a decision of the whole turn would not send ("has edits open"), if anything. */
  unsent(): string | undefined;
}

/** The confirmation of "Approve with edits" on an irreversible (or unrated) call: it approves the edited arguments. */
const EDITS_WORDING: ConfirmWording = {
  title: 'Confirm an irreversible approval with edits',
  yes: 'Approve with edits, it cannot be undone',
};

function decidedText(record: ApprovalRecord): string {
  const by = record.response?.respondedBy;
  const verb = record.status === 'modified' ? 'approved with edits' : record.status;
  return `Already ${verb}${by ? ` by ${by}` : ''}${record.closedReason ? ` (${record.closedReason})` : ''}.`;
}

export function buildCard(record: ApprovalRecord, host: CardHost): Card {
  const request = record.request;
  const n = nextId();
  const titleId = `request-title-${n}`;
  const node = el('li', { class: 'card', 'data-testid': 'request-card', 'aria-labelledby': titleId, tabindex: '-1' });
  node.setAttribute('data-request-id', request.id);
  const quorumLine = buildQuorumLine(record);
  const update = (latest: ApprovalRecord) => {
    card.record = latest;
    updateQuorumLine(quorumLine, latest);
  };
  const card: Card = {
    node,
    record,
    timeLeft: el('span'),
    createdMs: Date.parse(record.createdAt),
    irreversible: isIrreversible(request.riskLevel),
    stale: false,
    markStale: () => undefined,
    unsent: () => undefined,
    update,
  };

  const view = appendCardView(node, record, { titleId, n, quorumLine, showThread: (threadId) => host.showThread(threadId) });
  card.timeLeft = view.timeLeft;
  const { inputText } = view;

  const path = `requests/${encodeURIComponent(request.id)}/`;
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'card-error' });
  error.hidden = true;
  let buttons: HTMLButtonElement[] = [];
  // One error line per card, placed right after the controls that caused it.
  const showError = (text: string, near?: HTMLElement) => {
    error.textContent = text;
    error.hidden = !text;
    if (text && near && near.nextSibling !== error) near.parentNode?.insertBefore(error, near.nextSibling);
  };
  const markStale = (latest: ApprovalRecord, near?: HTMLElement) => {
    card.stale = true;
    node.setAttribute('data-stale', 'true');
    for (const button of buttons) button.disabled = true;
    card.approve = undefined;
    card.reject = undefined;
    showError(decidedText(latest), near);
    host.staled(card);
  };
  const send = async (
    route: string,
    payload: Record<string, unknown>,
    done: string,
    near: HTMLElement,
    onRefusal?: (failure: ApiError) => void,
  ) => {
    showError('');
    for (const button of buttons) button.disabled = true;
    try {
      const result = await postJson<ApprovalRecord>(path + route, payload);
      if (result?.status === 'pending') {
        // One approval of several: the card stays, saying another approver is needed; this reviewer's part is done.
        update(result);
        for (const button of buttons) button.disabled = button.getAttribute('data-testid') !== 'reject-button';
        card.approve = undefined;
        host.announce(`${done}: ${request.toolName}. Another approver is needed.`);
        return;
      }
      host.decided(request.id, done, request.toolName);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409) {
        // Decided elsewhere: say by whom, and offer nothing that would pretend otherwise.
        const latest = await getJson<ApprovalRecord>(path.slice(0, -1)).catch(() => undefined);
        if (latest && latest.status !== 'pending') {
          markStale(latest, near);
          return;
        }
      }
      // The request stays pending (nothing was recorded): every control works again.
      for (const button of buttons) button.disabled = false;
      const text =
        failure instanceof NetworkError
          ? noAnswerText(failure, 'request')
          : failure instanceof Error && failure.message
            ? failure.message
            : 'The request failed.';
      showError(text, near);
      if (failure instanceof ApiError && onRefusal) onRefusal(failure);
    }
  };
  card.markStale = (latest) => markStale(latest, node.querySelector<HTMLElement>('.actions') ?? undefined);
  const withNote = (payload: Record<string, unknown>, text: string) => {
    if (text) payload.feedback = text;
    return payload;
  };

  // input, feedback and annotation requests are answered with text: the answer is recorded as an
  // approve whose feedback is the text; Decline records a reject (with the text, if any).
  const buildAnswerControls = () => {
    const noun = request.type === 'input' ? 'answer' : request.type;
    const answerId = `answer-${n}`;
    node.appendChild(cardLabel(answerId, `Your ${noun}`, request.toolName, request.id));
    const answer = el('textarea', { id: answerId, rows: '3', 'data-testid': 'answer-input' });
    node.appendChild(answer);
    const actions = el('div', { class: 'actions' });
    const submit = el('button', { type: 'button', class: 'primary', 'data-testid': 'answer-button' }, `Send ${noun}`);
    const decline = el('button', { type: 'button', class: 'danger', 'data-testid': 'reject-button' }, 'Decline');
    nameAfterCard(submit, titleId);
    nameAfterCard(decline, titleId);
    actions.append(submit, decline);
    node.appendChild(actions);
    buttons = [submit, decline];
    submit.addEventListener('click', () => {
      const text = answer.value.trim();
      if (!text) {
        showError(`Type your ${noun} first. Nothing was sent.`, actions);
        answer.focus();
        return;
      }
      void send('approve', { feedback: text }, 'Answered', actions);
    });
    decline.addEventListener('click', () => void send('reject', withNote({}, answer.value.trim()), 'Declined', actions));
    card.unsent = () => (answer.value.trim() ? 'has an answer typed' : 'needs an answer');
    card.approve = () => submit.click();
    card.reject = () => decline.click();
  };

  const buildApprovalControls = () => {
    const feedbackId = `feedback-${n}`;
    node.appendChild(cardLabel(feedbackId, 'Note for the agent (optional, sent with your decision)', request.toolName, request.id));
    const feedback = el('textarea', { id: feedbackId, rows: '2', 'data-testid': 'feedback-input' });
    node.appendChild(feedback);

    const actions = el('div', { class: 'actions' });
    // An irreversible (or unrated) call asks first: the label says so ("Approve…", a dialog follows).
    const approve = el(
      'button',
      { type: 'button', class: 'primary', 'data-testid': 'approve-button' },
      card.irreversible ? 'Approve…' : 'Approve',
    );
    if (card.irreversible) approve.setAttribute('aria-haspopup', 'dialog');
    const reject = el('button', { type: 'button', class: 'danger', 'data-testid': 'reject-button' }, 'Reject');
    const edit = el('button', { type: 'button', 'data-testid': 'edit-button', 'aria-expanded': 'false' }, 'Edit and approve');
    actions.append(approve, reject, edit);
    // A request that needs several approvers cannot be modified (reject with a note instead): no Edit offered.
    if (approvalsRequired(record) > 1) edit.hidden = true;
    node.appendChild(actions);
    // Remembered decisions approve or reject the original input: hidden while the editor is open.
    const remember = buildRememberControls({
      record,
      threadId: view.threadId,
      titleId,
      irreversible: card.irreversible,
      note: () => feedback.value.trim(),
      send: (payload, done, near) => void send('respond', payload, done, near),
      confirm: (text, action, wording) => host.confirm(request.id, text, action, wording),
    });
    node.appendChild(remember.node);

    const editorId = `editor-${n}`;
    const modifiedId = `modified-${n}`;
    const editor = el('div', { class: 'editor', id: editorId });
    editor.hidden = true;
    edit.setAttribute('aria-controls', editorId);
    const editActions = el('div', { class: 'actions' });
    // Like Approve, an irreversible (or unrated) call asks first, and the label says so.
    const sendModified = el(
      'button',
      { type: 'button', class: 'primary', 'data-testid': 'submit-modified-button' },
      card.irreversible ? 'Approve with edits…' : 'Approve with edits',
    );
    if (card.irreversible) sendModified.setAttribute('aria-haspopup', 'dialog');
    const discard = el('button', { type: 'button', 'data-testid': 'cancel-edit-button' }, 'Discard edits');
    editActions.append(sendModified, discard);
    editor.appendChild(editActions);
    const original = (request.input ?? {}) as Record<string, unknown>;
    // The editor's fields are built when it first opens: a page of 1,000 cards holds no hidden editors.
    const buildBody = () => {
      const built = buildEditBody(request, original, inputText, modifiedId);
      editor.insertBefore(built.node, editActions);
      return built;
    };
    let body: ReturnType<typeof buildBody> | undefined;
    const ensureBody = () => (body ??= buildBody());

    node.appendChild(editor);
    for (const button of [approve, reject, edit, sendModified, discard]) nameAfterCard(button, titleId);
    buttons = [approve, reject, edit, sendModified, discard, ...remember.buttons];

    // While the editor is open the plain Approve (which would run the original input) and the
    // Edit toggle are hidden: the only approval on offer is "Approve with edits".
    const setEditing = (editing: boolean) => {
      editor.hidden = !editing;
      approve.hidden = editing;
      edit.hidden = editing || approvalsRequired(record) > 1;
      remember.node.hidden = editing;
      edit.setAttribute('aria-expanded', String(editing));
      body?.form?.clearErrors();
      showError('');
    };

    const risk = request.riskLevel === 'irreversible' ? 'It is irreversible' : 'Its risk was not given, so it is treated as irreversible';
    approve.addEventListener('click', () => {
      const approveNow = () => void send('approve', withNote({}, feedback.value.trim()), 'Approved', actions);
      if (!card.irreversible) {
        approveNow();
        return;
      }
      host.confirm(request.id, `Approve ${request.toolName}? ${risk}: it runs at once and cannot be undone.`, () => {
        // Decided elsewhere while the dialog was open: the card says so, and nothing is sent.
        if (!approve.disabled) approveNow();
      });
    });
    reject.addEventListener('click', () => void send('reject', withNote({}, feedback.value.trim()), 'Rejected', actions));
    edit.addEventListener('click', () => {
      const { modified } = ensureBody();
      setEditing(true);
      modified.focus();
    });
    discard.addEventListener('click', () => {
      const { modified, form, refreshDiff } = ensureBody();
      modified.value = inputText;
      form?.fill(original);
      refreshDiff();
      setEditing(false);
      approve.focus();
    });
    sendModified.addEventListener('click', () => {
      const { modified, form } = ensureBody();
      let value: unknown;
      try {
        value = JSON.parse(modified.value);
      } catch (parseError) {
        showError(
          `The edited input is not valid JSON: ${parseError instanceof Error ? parseError.message : 'parse error'}. Nothing was sent.`,
          editActions,
        );
        modified.focus();
        return;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        showError('The edited input must be a JSON object like {"key": "value"}. Nothing was sent.', editActions);
        modified.focus();
        return;
      }
      form?.clearErrors();
      const sendNow = () =>
        void send(
          'respond',
          withNote({ decision: 'modify', modified: value }, feedback.value.trim()),
          'Approved with edits',
          editActions,
          (failure) => {
            // `modified/user_id must be string`: show it on the user_id field too.
            const field = /\bmodified\/([^/\s]+)/.exec(failure.serverMessage ?? '')?.[1];
            if (field && form?.showFieldError(field, failure.serverMessage ?? '')) form.focusField(field);
          },
        );
      if (!card.irreversible) {
        sendNow();
        return;
      }
      host.confirm(
        request.id,
        `Approve ${request.toolName} with your edits? ${risk}: it runs at once with the edited arguments and cannot be undone.`,
        () => {
          // Decided elsewhere while the dialog was open: the card says so, and nothing is sent.
          if (!sendModified.disabled) sendNow();
        },
        EDITS_WORDING,
      );
    });
    card.unsent = () => (!editor.hidden ? 'has its edits open' : feedback.value.trim() ? 'has a note typed' : undefined);
    // The keyboard decides only what the visible buttons offer: nothing while the editor is open.
    card.approve = () => {
      if (!approve.hidden && !approve.disabled) approve.click();
    };
    card.reject = () => {
      if (!reject.disabled) reject.click();
    };
  };

  if (request.type === 'input' || request.type === 'feedback' || request.type === 'annotation') buildAnswerControls();
  else buildApprovalControls();
  node.appendChild(error);
  return card;
}
