/** The Slack modals for rejecting with a reason and editing arguments, and reading their submissions. */
import type { ApprovalRecord } from '@hitl/core';
import type { KnownBlock, View } from '@slack/web-api';
import { cut } from './slack-text.js';

/** Where a modal came from: carried in the view's `private_metadata` so its submission finds the request and the message. */
export interface ModalContext {
  requestId: string;
  channel?: string;
  ts?: string;
}

interface PropertySchema {
  type?: string | string[];
  description?: string;
  title?: string;
}

const FIELD_PREFIX = 'hitl_field:';
const MAX_FIELDS = 40;

function propertiesOf(record: ApprovalRecord): Array<[string, PropertySchema]> {
  const schema = record.request.inputSchema as { properties?: Record<string, PropertySchema> } | undefined;
  return Object.entries(schema?.properties ?? {}).slice(0, MAX_FIELDS);
}

function typeOf(property: PropertySchema): string | undefined {
  return Array.isArray(property.type) ? property.type.find((type) => type !== 'null') : property.type;
}

function asText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function metadata(context: ModalContext): string {
  return JSON.stringify(context);
}

/** Reads a view's `private_metadata`; `undefined` when it is not ours. */
export function readModalContext(privateMetadata: unknown): ModalContext | undefined {
  if (typeof privateMetadata !== 'string') return undefined;
  try {
    const value = JSON.parse(privateMetadata) as Partial<ModalContext>;
    if (typeof value.requestId !== 'string') return undefined;
    return {
      requestId: value.requestId,
      ...(typeof value.channel === 'string' ? { channel: value.channel } : {}),
      ...(typeof value.ts === 'string' ? { ts: value.ts } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The Reject modal: an optional reason. */
export function toRejectModal(record: ApprovalRecord, context: ModalContext): View {
  return {
    type: 'modal',
    callback_id: 'hitl_reject',
    private_metadata: metadata(context),
    title: { type: 'plain_text', text: 'Reject' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'plain_text', text: cut(`Reject ${record.request.toolName}?`, 3_000), emoji: false } },
      {
        type: 'input',
        block_id: 'hitl_reason',
        optional: true,
        label: { type: 'plain_text', text: 'Reason (the agent reads it)' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 2_000 },
      },
    ],
  };
}

/**
 * The Edit modal, built from `request.inputSchema`: one `plain_text_input` per property, pre-filled
 * with the current value (JSON for non-strings), optional unless the schema requires it.
 */
export function toEditModal(record: ApprovalRecord, context: ModalContext): View {
  const required = new Set(((record.request.inputSchema as { required?: unknown } | undefined)?.required as string[] | undefined) ?? []);
  const input = record.request.input ?? {};
  const blocks: KnownBlock[] = propertiesOf(record).map(([key, property]) => {
    const initial = asText(input[key]);
    const type = typeOf(property);
    const hint = [type, property.description].filter(Boolean).join(' · ');
    return {
      type: 'input',
      block_id: `${FIELD_PREFIX}${cut(key, 200)}`,
      optional: !required.has(key),
      label: { type: 'plain_text', text: cut(property.title ?? key, 2_000) },
      ...(hint === '' ? {} : { hint: { type: 'plain_text', text: cut(hint, 2_000) } }),
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        multiline: type === 'object' || type === 'array' || (initial?.length ?? 0) > 80,
        ...(initial === undefined ? {} : { initial_value: cut(initial, 3_000) }),
      },
    } as KnownBlock;
  });
  return {
    type: 'modal',
    callback_id: 'hitl_edit',
    private_metadata: metadata(context),
    title: { type: 'plain_text', text: 'Edit and approve' },
    submit: { type: 'plain_text', text: 'Approve edit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

function parseField(text: string, type: string | undefined): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'number':
    case 'integer':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
  }
}

type StateValues = Record<string, Record<string, { value?: string | null }>>;

/** The edited input from a `view_submission` of the Edit modal: the original input with the fields replaced. */
export function readEditSubmission(record: ApprovalRecord, values: StateValues | undefined): Record<string, unknown> {
  const edited: Record<string, unknown> = { ...(record.request.input ?? {}) };
  for (const [key, property] of propertiesOf(record)) {
    const text = values?.[`${FIELD_PREFIX}${cut(key, 200)}`]?.value?.value;
    if (text === undefined || text === null || text === '') delete edited[key];
    else edited[key] = parseField(text, typeOf(property));
  }
  return edited;
}

/** The modal block a schema error belongs to (`modified/amount` → the amount field), for `response_action: 'errors'`. */
export function errorBlockId(record: ApprovalRecord, path: string | undefined): string {
  const fields = propertiesOf(record).map(([key]) => key);
  const key = path?.replace(/^\/?modified\/?/, '').split('/')[0];
  const match = key !== undefined && fields.includes(key) ? key : fields[0];
  return `${FIELD_PREFIX}${cut(match ?? '', 200)}`;
}

/** The block id of the Reject modal's reason. */
export const REASON_BLOCK_ID = 'hitl_reason';
