/** Reading the AI SDK's approval requests and responses out of `generateText` results and messages. */
import { invalidInput } from '@hitl/core/internal';
import { isObject } from './assessment.js';
import type { ApprovalRequestSource, ToolCallInfo } from './types.js';

/** One `tool-approval-request` with the tool call it is about. */
export interface CollectedApprovalRequest extends ToolCallInfo {
  approvalId: string;
  /** ai 7: the request was decided by `toolApproval` at once (`'approved'` / `'denied'`). */
  automatic: boolean;
  /** ai 7: the reason the approval function gave. */
  reason?: string;
}

interface ToolCallPart {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

function toolCallOf(value: unknown): ToolCallPart | undefined {
  if (!isObject(value) || typeof value.toolCallId !== 'string' || typeof value.toolName !== 'string') return undefined;
  return { toolCallId: value.toolCallId, toolName: value.toolName, input: value.input };
}

function contentOf(message: Record<string, unknown>): unknown[] {
  return Array.isArray(message.content) ? message.content : [];
}

/**
 * Reads the unanswered `tool-approval-request`s of a source: the output parts of a result
 * (`{ approvalId, toolCall }`) or the parts of model messages (`{ approvalId, toolCallId }`,
 * matched with the assistant's `tool-call` parts). Requests that already have a
 * `tool-approval-response` in the source are left out.
 */
export async function collectApprovalRequests(source: ApprovalRequestSource | undefined): Promise<CollectedApprovalRequest[]> {
  let items: unknown[];
  if (Array.isArray(source)) {
    items = source;
  } else if (isObject(source)) {
    const steps: unknown = await source.steps;
    if (Array.isArray(steps) && steps.length > 0) {
      items = steps.flatMap((step: unknown) => (isObject(step) && Array.isArray(step.content) ? (step.content as unknown[]) : []));
    } else {
      const content: unknown = await source.content;
      if (!Array.isArray(content)) throw invalidInput('source.content', content, 'must be an array of content parts');
      items = content;
    }
  } else {
    throw invalidInput('source', source, 'must be a generateText/streamText result or an array of content parts or messages');
  }

  const toolCalls = new Map<string, ToolCallPart>();
  const answered = new Set<string>();
  const requests: Array<{ approvalId: string; toolCallId?: string; toolCall?: ToolCallPart; automatic: boolean; reason?: string }> = [];
  const readPart = (part: unknown) => {
    if (!isObject(part)) return;
    if (part.type === 'tool-call') {
      const call = toolCallOf(part);
      if (call) toolCalls.set(call.toolCallId, call);
    } else if (part.type === 'tool-approval-response' && typeof part.approvalId === 'string') {
      answered.add(part.approvalId);
    } else if (part.type === 'tool-approval-request' && typeof part.approvalId === 'string') {
      const request: (typeof requests)[number] = { approvalId: part.approvalId, automatic: part.isAutomatic === true };
      if (typeof part.reason === 'string') request.reason = part.reason;
      const toolCall = toolCallOf(part.toolCall);
      if (toolCall) request.toolCall = toolCall;
      else if (typeof part.toolCallId === 'string') request.toolCallId = part.toolCallId;
      requests.push(request);
    }
  };
  for (const item of items) {
    if (isObject(item) && typeof item.role === 'string') contentOf(item).forEach(readPart);
    else readPart(item);
  }

  const collected = new Map<string, CollectedApprovalRequest>();
  for (const request of requests) {
    if (answered.has(request.approvalId) || request.automatic || collected.has(request.approvalId)) continue;
    const toolCall = request.toolCall ?? (request.toolCallId === undefined ? undefined : toolCalls.get(request.toolCallId));
    if (!toolCall) {
      throw invalidInput(
        'source',
        request.approvalId,
        `holds a tool-approval-request whose tool call ${request.toolCallId === undefined ? 'is missing' : `'${request.toolCallId}' is not in the source`}`,
      );
    }
    const entry: CollectedApprovalRequest = { ...toolCall, approvalId: request.approvalId, automatic: false };
    if (request.reason !== undefined) entry.reason = request.reason;
    collected.set(request.approvalId, entry);
  }
  return [...collected.values()];
}

/**
 * Finds the approval response the messages hold for a tool call, if any: the `approvalId` of the
 * assistant's `tool-approval-request` for `toolCallId`, answered in a `role: 'tool'` message.
 */
export function findApprovalResponse(messages: unknown, toolCallId: string): { approvalId: string; approved: boolean } | undefined {
  if (!Array.isArray(messages)) return undefined;
  const approvalIds = new Set<string>();
  let found: { approvalId: string; approved: boolean } | undefined;
  for (const message of messages) {
    if (!isObject(message)) continue;
    for (const part of contentOf(message)) {
      if (!isObject(part) || typeof part.approvalId !== 'string') continue;
      if (part.type === 'tool-approval-request' && part.toolCallId === toolCallId) approvalIds.add(part.approvalId);
      else if (part.type === 'tool-approval-response' && approvalIds.has(part.approvalId) && found === undefined) {
        // The SDK acts on the first response for a tool call; so do we.
        found = { approvalId: part.approvalId, approved: part.approved === true };
      }
    }
  }
  return found;
}
