/**
 * The body of a card's editor: a form generated from the request's input schema (when it has one),
 * the JSON that will be sent, and the changes against the original input. The form writes into the
 * JSON text, which is what is sent; editing the JSON refills the form.
 */
import type { ApprovalRecord } from '@hitl/core';
import { cardLabel, el } from './dom.js';
import { pretty } from './format.js';
import { buildSchemaForm, diffInputs, renderDiff, type SchemaForm } from './schema-form.js';

export interface EditBody {
  node: HTMLElement;
  /** The JSON text sent as `modified`. */
  modified: HTMLTextAreaElement;
  form: SchemaForm | undefined;
  refreshDiff(): void;
}

export function buildEditBody(
  request: ApprovalRecord['request'],
  original: Record<string, unknown>,
  inputText: string,
  modifiedId: string,
): EditBody {
  const node = el('div');
  const modified = el('textarea', { id: modifiedId, class: 'code', spellcheck: 'false', 'data-testid': 'modified-input' });
  modified.value = inputText;
  const diff = el('div', { class: 'diff', 'data-testid': 'edit-diff', 'aria-live': 'polite' });
  const parsed = (): Record<string, unknown> | undefined => {
    try {
      const value = JSON.parse(modified.value) as unknown;
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const refreshDiff = () => {
    const value = parsed();
    if (value) renderDiff(diff, diffInputs(original, value));
  };
  const form = buildSchemaForm(request.inputSchema, request.toolName, () => {
    const result = form?.read(parsed() ?? original);
    if (!result) return;
    if ('error' in result) {
      form?.showFieldError(result.key, result.error);
      return;
    }
    modified.value = pretty(result.value);
    refreshDiff();
  });
  if (form) {
    form.fill(original);
    node.appendChild(form.node);
  }
  node.appendChild(cardLabel(modifiedId, 'Edited input (a JSON object)', request.toolName, request.id));
  node.appendChild(modified);
  modified.addEventListener('input', () => {
    const value = parsed();
    if (value && form) form.fill(value);
    refreshDiff();
  });
  node.appendChild(el('p', { class: 'section-label' }, 'Changes against the original input'));
  node.appendChild(diff);
  refreshDiff();
  return { node, modified, form, refreshDiff };
}
