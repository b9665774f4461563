/**
 * The edit form generated from a request's JSON Schema (`request.inputSchema`): one field per
 * top-level property of type string, number, integer, boolean or enum. Other properties are edited
 * in the JSON text below the form, which stays the source of truth for what is sent.
 */
import { el, nextId } from './dom.js';

type Schema = Record<string, unknown>;
type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'enum';

interface Field {
  key: string;
  kind: Kind;
  control: HTMLInputElement | HTMLSelectElement;
  error: HTMLParagraphElement;
  options: unknown[];
}

export interface SchemaForm {
  node: HTMLElement;
  /** Puts `value`'s properties into the fields. */
  fill(value: Record<string, unknown>): void;
  /** `base` with the fields' values written over it, or the message of the first invalid field. */
  read(base: Record<string, unknown>): { value: Record<string, unknown> } | { error: string; key: string };
  /** Marks the field of a top-level property invalid with `message`; false when there is no such field. */
  showFieldError(key: string, message: string): boolean;
  clearErrors(): void;
  focusField(key: string): void;
}

function kindOf(property: unknown): { kind: Kind; options: unknown[] } | undefined {
  if (property === null || typeof property !== 'object') return undefined;
  const schema = property as Schema;
  if (
    Array.isArray(schema.enum) &&
    schema.enum.length > 0 &&
    schema.enum.every((option) => option === null || typeof option !== 'object')
  ) {
    return { kind: 'enum', options: schema.enum };
  }
  if (schema.type === 'string' || schema.type === 'number' || schema.type === 'integer' || schema.type === 'boolean') {
    return { kind: schema.type, options: [] };
  }
  return undefined;
}

/** A form for `schema`, or undefined when the schema has no property a field can edit. */
export function buildSchemaForm(schema: unknown, toolName: string, onChange: () => void): SchemaForm | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const properties = (schema as Schema).properties;
  if (properties === null || typeof properties !== 'object') return undefined;
  const required = new Set(Array.isArray((schema as Schema).required) ? ((schema as Schema).required as unknown[]) : []);
  const node = el('fieldset', { class: 'schema-form', 'data-testid': 'schema-form' });
  node.appendChild(el('legend', null, `Fields of ${toolName}`));
  const fields = new Map<string, Field>();

  for (const [key, property] of Object.entries(properties as Record<string, unknown>)) {
    const shape = kindOf(property);
    if (!shape) continue;
    const id = `field-${nextId()}`;
    const description = (property as Schema).description;
    const label = el(
      'label',
      { for: id },
      `${key}${required.has(key) ? ' (required)' : ''}${typeof description === 'string' ? ` — ${description}` : ''}`,
    );
    let control: HTMLInputElement | HTMLSelectElement;
    if (shape.kind === 'enum') {
      control = el('select', { id });
      if (!required.has(key)) control.appendChild(el('option', { value: '' }, '(not set)'));
      shape.options.forEach((option, index) => control.appendChild(el('option', { value: String(index) }, JSON.stringify(option))));
    } else if (shape.kind === 'boolean') {
      control = el('input', { id, type: 'checkbox' });
    } else {
      control = el('input', { id, type: shape.kind === 'string' ? 'text' : 'number', spellcheck: 'false' });
      if (shape.kind === 'integer') control.setAttribute('step', '1');
      if (shape.kind === 'number') control.setAttribute('step', 'any');
    }
    control.setAttribute('data-field', key);
    const error = el('p', { class: 'field-error', id: `${id}-error`, 'data-testid': 'field-error' });
    error.hidden = true;
    control.addEventListener('input', onChange);
    control.addEventListener('change', onChange);
    if (shape.kind === 'boolean') {
      const row = el('div');
      row.appendChild(control);
      row.appendChild(label);
      label.style.display = 'inline';
      node.appendChild(row);
    } else {
      node.appendChild(label);
      node.appendChild(control);
    }
    node.appendChild(error);
    fields.set(key, { key, kind: shape.kind, control, error, options: shape.options });
  }
  if (fields.size === 0) return undefined;

  const setError = (field: Field, message: string) => {
    field.error.textContent = message;
    field.error.hidden = !message;
    if (message) {
      field.control.setAttribute('aria-invalid', 'true');
      field.control.setAttribute('aria-describedby', field.error.id);
    } else {
      field.control.removeAttribute('aria-invalid');
      field.control.removeAttribute('aria-describedby');
    }
  };

  return {
    node,
    fill(value) {
      for (const field of fields.values()) {
        const current = value[field.key];
        if (field.kind === 'boolean') (field.control as HTMLInputElement).checked = current === true;
        else if (field.kind === 'enum') {
          const index = field.options.findIndex((option) => option === current);
          field.control.value = index === -1 ? '' : String(index);
        } else field.control.value = current === undefined || current === null ? '' : String(current);
      }
    },
    read(base) {
      const value: Record<string, unknown> = { ...base };
      for (const field of fields.values()) {
        setError(field, '');
        const raw = field.control.value;
        if (field.kind === 'boolean') value[field.key] = (field.control as HTMLInputElement).checked;
        else if (field.kind === 'enum') {
          if (raw === '') delete value[field.key];
          else value[field.key] = field.options[Number(raw)];
        } else if (field.kind === 'string') {
          if (raw === '' && !(field.key in base) && !required.has(field.key)) delete value[field.key];
          else value[field.key] = raw;
        } else {
          if (raw.trim() === '') {
            if (required.has(field.key)) return { error: `${field.key} is required`, key: field.key };
            delete value[field.key];
            continue;
          }
          const number = Number(raw);
          if (!Number.isFinite(number)) return { error: `${field.key} must be a number`, key: field.key };
          if (field.kind === 'integer' && !Number.isInteger(number)) return { error: `${field.key} must be an integer`, key: field.key };
          value[field.key] = number;
        }
      }
      return { value };
    },
    showFieldError(key, message) {
      const field = fields.get(key);
      if (!field) return false;
      setError(field, message);
      return true;
    },
    clearErrors() {
      for (const field of fields.values()) setError(field, '');
    },
    focusField(key) {
      fields.get(key)?.control.focus();
    },
  };
}

export interface Change {
  key: string;
  before?: unknown;
  after?: unknown;
}

/** The top-level properties that differ between `original` and `edited`. */
export function diffInputs(original: Record<string, unknown>, edited: Record<string, unknown>): Change[] {
  const changes: Change[] = [];
  const keys = [...new Set([...Object.keys(original), ...Object.keys(edited)])].sort();
  for (const key of keys) {
    const before = JSON.stringify(original[key]);
    const after = JSON.stringify(edited[key]);
    if (before === after) continue;
    const change: Change = { key };
    if (key in original) change.before = original[key];
    if (key in edited) change.after = edited[key];
    changes.push(change);
  }
  return changes;
}

/** Renders `changes` as a list of `key: before → after` lines (text only). */
export function renderDiff(target: HTMLElement, changes: Change[]): void {
  target.replaceChildren();
  if (changes.length === 0) {
    target.appendChild(el('p', { class: 'meta' }, 'No changes yet: approving with edits would run the original input.'));
    return;
  }
  const list = el('ul');
  for (const change of changes) {
    const item = el('li', { 'data-testid': 'diff-line' });
    item.appendChild(el('span', null, `${change.key}: `));
    if ('before' in change) item.appendChild(el('del', null, JSON.stringify(change.before)));
    if ('before' in change && 'after' in change) item.appendChild(el('span', null, ' → '));
    if ('after' in change) item.appendChild(el('ins', null, JSON.stringify(change.after)));
    else item.appendChild(el('span', null, ' (removed)'));
    list.appendChild(item);
  }
  target.appendChild(list);
}
