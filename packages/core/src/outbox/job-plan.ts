/**
 * What a transition calls for, as outbox jobs: its decision hook, one message per notifier that
 * takes its event, for a new pending request its reminders and escalation (durable timers), and for
 * an approval that leaves a request pending (four eyes) the notice that another approver is needed.
 * Job ids are stable (`<request>:<topic>:<target>`), so a repeated write adds nothing.
 */
import { sha256 } from '../canonical-json.js';
import { identityKey } from '../identity.js';
import type { DecisionHook } from '../manager-events.js';
import { hookOfStatus } from '../manager-events.js';
import type { RequestStatus } from '../constants.js';
import type { Approval, ApprovalPolicy, ApprovalRecord, ManagerHooks, Notifier } from '../types.js';
import type { NotificationEventType, OutboxJobInput } from './types.js';

/** The job kinds the manager writes and claims. */
export const MANAGER_JOB_KINDS = ['hook', 'notify', 'transition'] as const;

/** Events a notifier takes when it does not say. */
export const DEFAULT_EVENTS: readonly NotificationEventType[] = ['request.created', 'request.approval_added', 'request.reminder'];

/** The webhook event of a final status. */
export const eventOfFinalStatus: Record<string, NotificationEventType> = {
  approved: 'request.decided',
  rejected: 'request.decided',
  modified: 'request.decided',
  expired: 'request.expired',
  cancelled: 'request.cancelled',
};

export interface JobPlanOptions {
  notifiers: readonly Notifier[];
  hooks: ManagerHooks;
  policyNamed(name: string): ApprovalPolicy | undefined;
  maxAttempts: number;
}

/** Who holds a job written already claimed. */
export type Claim = { owner: string; leaseUntil: string };
/** The claim of jobs written now, made only when there is a job to carry it (most writes have none). */
export type ClaimSource = () => Claim;

export interface JobPlan {
  /** The jobs of a record just created (pending, or decided by a policy). */
  forCreate(record: ApprovalRecord, nowMs: number, claim: ClaimSource): OutboxJobInput[];
  /** The jobs of request `id` reaching final status `status`. */
  forDecision(id: string, status: RequestStatus, nowMs: number, claim: ClaimSource): OutboxJobInput[];
  /**
   * Four eyes: the jobs of `approval` when it leaves request `id` pending, `request.approval_added`
   * to every notifier that takes it (the store writes them only then). One job per approver and
   * notifier: `<request>:request.approval_added:<approver digest>:<target>`, the approver in the payload.
   */
  forApproval(id: string, approval: Approval, nowMs: number, claim: ClaimSource): OutboxJobInput[];
  /** The reminder after the one `payload` describes, or nothing when it was the last. */
  nextReminder(
    job: { requestId: string; target: string; payload: Record<string, unknown> },
    record: ApprovalRecord,
  ): OutboxJobInput | undefined;
}

/** `source`, called at most once: the jobs of one write share one claim. */
function once(source: ClaimSource): ClaimSource {
  let claim: Claim | undefined;
  return () => (claim ??= source());
}

const takes = (notifier: Notifier, event: NotificationEventType) => (notifier.events ?? DEFAULT_EVENTS).includes(event);

export function createJobPlan({ notifiers, hooks, policyNamed, maxAttempts }: JobPlanOptions): JobPlan {
  const iso = (ms: number) => new Date(ms).toISOString();

  const hookJob = (id: string, hook: DecisionHook | undefined, nowMs: number, claim: ClaimSource): OutboxJobInput[] =>
    hook !== undefined && typeof hooks[hook] === 'function'
      ? [{ id: `${id}:hook:${hook}`, kind: 'hook', requestId: id, topic: hook, dueAt: iso(nowMs), maxAttempts, claim: claim() }]
      : [];

  const messages = (
    id: string,
    event: NotificationEventType,
    nowMs: number,
    claim: ClaimSource,
    about?: { key: string; payload: Record<string, unknown> },
  ): OutboxJobInput[] =>
    notifiers
      .filter((notifier) => takes(notifier, event))
      .map((notifier) => ({
        id: about === undefined ? `${id}:${event}:${notifier.name}` : `${id}:${event}:${about.key}:${notifier.name}`,
        kind: 'notify',
        requestId: id,
        topic: event,
        target: notifier.name,
        ...(about === undefined ? {} : { payload: about.payload }),
        dueAt: iso(nowMs),
        maxAttempts,
        claim: claim(),
      }));

  const reminderJob = (
    id: string,
    target: string,
    createdMs: number,
    everyMs: number,
    times: number | undefined,
    number: number,
  ): OutboxJobInput => {
    const payload: Record<string, unknown> = { reminder: number, everyMs, createdMs };
    if (times !== undefined) payload.times = times;
    return {
      id: `${id}:request.reminder:${number}:${target}`,
      kind: 'notify',
      requestId: id,
      topic: 'request.reminder',
      target,
      payload,
      dueAt: iso(createdMs + number * everyMs),
      maxAttempts,
    };
  };

  return {
    forCreate(record, nowMs, source) {
      const claim = once(source);
      const id = record.request.id;
      if (record.status !== 'pending') {
        return [
          ...hookJob(id, hookOfStatus[record.status], nowMs, claim),
          ...messages(id, eventOfFinalStatus[record.status] as NotificationEventType, nowMs, claim),
        ];
      }
      const jobs = messages(id, 'request.created', nowMs, claim);
      const policy = record.evaluation.policy === undefined ? undefined : policyNamed(record.evaluation.policy);
      if (!policy?.remind && !policy?.escalate) return jobs;
      const createdMs = Date.parse(record.createdAt);
      if (policy.remind) {
        const { everyMs, times } = policy.remind;
        for (const notifier of notifiers) {
          if (takes(notifier, 'request.reminder')) jobs.push(reminderJob(id, notifier.name, createdMs, everyMs, times, 1));
        }
      }
      if (policy.escalate) {
        for (const target of policy.escalate.notifiers) {
          jobs.push({
            id: `${id}:request.escalated:${target}`,
            kind: 'notify',
            requestId: id,
            topic: 'request.escalated',
            target,
            dueAt: iso(createdMs + policy.escalate.afterMs),
            maxAttempts,
          });
        }
      }
      return jobs;
    },
    forDecision(id, status, nowMs, source) {
      const claim = once(source);
      const event = eventOfFinalStatus[status];
      return [...hookJob(id, hookOfStatus[status], nowMs, claim), ...(event ? messages(id, event, nowMs, claim) : [])];
    },
    forApproval(id, approval, nowMs, source) {
      // Approvers are distinct per request, so the approver names the approval; a digest keeps the id short.
      const key = sha256(identityKey(approval.by)).slice(0, 16);
      return messages(id, 'request.approval_added', nowMs, once(source), { key, payload: { by: approval.by } });
    },
    nextReminder({ requestId, target, payload }, record) {
      const number = Number(payload.reminder);
      const everyMs = Number(payload.everyMs);
      const createdMs = Number(payload.createdMs);
      const times = payload.times === undefined ? undefined : Number(payload.times);
      if (!Number.isFinite(number) || !(everyMs > 0) || !Number.isFinite(createdMs)) return undefined;
      if (times !== undefined && number >= times) return undefined;
      const next = reminderJob(requestId, target, createdMs, everyMs, times, number + 1);
      if (record.expiresAt !== undefined && Date.parse(next.dueAt) >= Date.parse(record.expiresAt)) return undefined;
      return next;
    },
  };
}
