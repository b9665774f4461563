/**
 * What a card shows of its request, before any control: the tool, risk, confidence (low confidence
 * stands out), time left, description, the facts (policy and reason, requester, thread and run,
 * type, created, expiry and what happens then, id) and the arguments, folded when long.
 */
import type { ApprovalRecord } from '@hitl/core';
import { contextOf } from './api.js';
import { el, nameAfterCard } from './dom.js';
import { confidenceLabel, confidenceLevel, formatTime, pretty, riskClass, riskLabel } from './format.js';

const FOLD_CHARS = 800;

export interface CardView {
  /** The card's countdown, kept up to date by the page. */
  timeLeft: HTMLElement;
  /** The arguments as shown (the editor starts from them). */
  inputText: string;
  threadId: string | undefined;
}

/**
 * Appends the request's view to `node`: the title gets `titleId`, the id fact `${titleId}-ref` (every
 * control's accessible name ends with it); `quorumLine` (four eyes) goes after the facts.
 */
export function appendCardView(
  node: HTMLElement,
  record: ApprovalRecord,
  options: { titleId: string; n: number; quorumLine: HTMLElement | undefined; showThread(threadId: string): void },
): CardView {
  const request = record.request;
  const { titleId, n, quorumLine } = options;
  const head = el('div', { class: 'card-head' });
  head.appendChild(el('h3', { id: titleId, 'data-testid': 'request-tool' }, request.toolName));
  head.appendChild(
    el('span', { class: `badge risk-${riskClass(request.riskLevel)}`, 'data-testid': 'request-risk' }, riskLabel(request.riskLevel)),
  );
  const level = confidenceLevel(request.confidence);
  head.appendChild(
    el('span', { class: 'meta', 'data-testid': 'request-confidence', 'data-level': level }, confidenceLabel(request.confidence)),
  );
  if (level === 'low')
    head.appendChild(el('strong', { class: 'low-confidence', 'data-testid': 'low-confidence' }, 'Low confidence: check carefully'));
  const timeLeft = el('span', { class: 'time-left', 'data-testid': 'request-time-left', 'aria-live': 'off' });
  head.appendChild(timeLeft);
  node.appendChild(head);

  node.appendChild(
    el('p', { class: 'description', 'data-testid': 'request-description' }, request.description ? request.description : '(no description)'),
  );

  const facts = el('dl', { class: 'facts' });
  const fact = (label: string, value: string, testid?: string) => {
    facts.appendChild(el('dt', null, label));
    facts.appendChild(el('dd', testid ? { 'data-testid': testid } : null, value));
  };
  fact('Policy', record.evaluation?.reason ? record.evaluation.reason : '(no reason given)', 'request-reason');
  if (record.evaluation?.policy) fact('Policy name', record.evaluation.policy, 'request-policy');
  if (request.requestedBy) fact('Requested by', request.requestedBy, 'request-requested-by');
  const context = contextOf(record);
  if (context.threadId) {
    const threadId = context.threadId;
    facts.appendChild(el('dt', null, 'Thread'));
    const value = el('dd');
    const show = el('button', { type: 'button', class: 'link', 'data-testid': 'show-thread' }, 'Show only this thread');
    show.addEventListener('click', () => options.showThread(threadId));
    value.append(el('span', { 'data-testid': 'request-thread' }, threadId), ' ', show);
    facts.appendChild(value);
    // Named after the card's title and request id below, like the card's other controls.
    nameAfterCard(show, titleId);
  }
  if (context.runId) fact('Run', context.runId, 'request-run');
  fact('Type', request.type);
  fact('Created', formatTime(record.createdAt));
  fact(
    'Expires',
    record.expiresAt
      ? `${formatTime(record.expiresAt)}; then it closes as expired and the call does not run`
      : 'never (waits for a decision)',
    'request-expiry',
  );
  fact('Request id', request.id, 'request-id');
  // The request id ends every control's accessible name: two cards of one tool are told apart.
  facts.lastElementChild?.setAttribute('id', `${titleId}-ref`);
  node.appendChild(facts);
  if (quorumLine) node.appendChild(quorumLine);

  const inputText = pretty(request.input);
  node.appendChild(el('p', { class: 'section-label' }, 'Input'));
  const inputView = el(
    'pre',
    { 'data-testid': 'request-input', tabindex: '0', 'aria-label': `Input of ${request.toolName} (request ${request.id})` },
    inputText,
  );
  node.appendChild(inputView);
  if (inputText.length > FOLD_CHARS) {
    // Folded by height only: the text is all there (copy, search and screen readers see it).
    inputView.classList.add('folded');
    const toggle = el(
      'button',
      { type: 'button', class: 'fold-toggle', 'aria-expanded': 'false', 'data-testid': 'fold-toggle' },
      `Show all input of ${request.toolName}`,
    );
    toggle.setAttribute('aria-controls', (inputView.id = `input-${n}`));
    toggle.addEventListener('click', () => {
      const folded = inputView.classList.toggle('folded');
      toggle.setAttribute('aria-expanded', String(!folded));
      toggle.textContent = `${folded ? 'Show all' : 'Fold'} input of ${request.toolName}`;
    });
    node.appendChild(toggle);
  }

  return { timeLeft, inputText, threadId: context.threadId };
}
