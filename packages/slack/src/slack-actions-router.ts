/**
 * `createSlackActionsRouter`: the Express route Slack calls when a reviewer clicks a button or submits a modal.
 * Over 300 lines because clicks and modal submissions share one closure: who the reviewer is, deciding, updating the message.
 */
import { HitlError, type ApprovalRecord, type Decision, type Manager, type RememberInput } from '@hitl/core';
import { invalidInput, isPlainObject } from '@hitl/core/internal';
import type { ReviewAction, Reviewer } from '@hitl/express';
import type { WebClient } from '@slack/web-api';
import express, { type Request, type Response, type Router } from 'express';
import {
  errorBlockId,
  readEditSubmission,
  readModalContext,
  REASON_BLOCK_ID,
  toEditModal,
  toRejectModal,
  type ModalContext,
} from './edit-modal.js';
import { createReplayGuard } from './replay-guard.js';
import { grantToShow } from './slack-allow-thread.js';
import { SlackActionId, toSlackDecidedMessage } from './slack-message.js';
import { createWebClient } from './slack-notifier.js';
import { verifySlackRequest } from './verify-slack-request.js';

/**
 * Options of {@link createSlackActionsRouter}.
 *
 * @example
 * ```ts
 * const options: SlackActionsRouterOptions = {
 *   manager,
 *   token: process.env.SLACK_BOT_TOKEN!,
 *   signingSecret: process.env.SLACK_SIGNING_SECRET!,
 *   resolveReviewer: (userId, teamId) => (teamId === 'T0123' ? { id: `slack:${userId}` } : null),
 * };
 * ```
 */
export interface SlackActionsRouterOptions<TReviewer extends Reviewer = Reviewer> {
  /** The manager whose requests the buttons decide. */
  manager: Manager;
  /** The app's signing secret: every request is checked against it (v0 HMAC-SHA256, ±300 s). */
  signingSecret: string;
  /**
   * Maps the Slack user who clicked (and their workspace) to a reviewer; `null` refuses (403). Check
   * `teamId` here: a request signed by your app may come from any workspace the app is installed in.
   */
  resolveReviewer: (userId: string, teamId: string | undefined) => TReviewer | null | undefined | Promise<TReviewer | null | undefined>;
  /** Whether the reviewer may take this decision on this record (as in `createReviewRouter`). Default: yes. */
  authorize?: (reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction) => boolean | Promise<boolean>;
  /** A bot token with `chat:write`, used to update messages and open modals. */
  token: string;
  /** The Web API base URL, ending in `/`. */
  slackApiUrl?: string;
  /** Input keys masked in updated messages (use the notifier's list). */
  mask?: string[];
  /** Called with failures of the work done after answering Slack (`chat.update`, `views.open`). Default `console.error`. */
  onError?: (error: unknown) => void;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface SlackPayload {
  type?: string;
  user?: { id?: string; team_id?: string };
  team?: { id?: string } | null;
  trigger_id?: string;
  actions?: Array<{ action_id?: string; value?: string }>;
  container?: { channel_id?: string; message_ts?: string };
  channel?: { id?: string };
  message?: { ts?: string };
  view?: {
    callback_id?: string;
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null }>> };
  };
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What each button asks for; "Allow in this thread" is an approve that also makes a thread grant. */
const BUTTONS: Record<string, { decision: Decision; remember?: RememberInput }> = {
  [SlackActionId.Approve]: { decision: 'approve' },
  [SlackActionId.Reject]: { decision: 'reject' },
  [SlackActionId.Edit]: { decision: 'modify' },
  [SlackActionId.AllowThread]: { decision: 'approve', remember: { scope: 'thread' } },
};

function validate(options: SlackActionsRouterOptions<Reviewer>): void {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  if (typeof options.manager?.respond !== 'function') throw invalidInput('manager', options.manager, 'must be a hitl Manager');
  if (typeof options.signingSecret !== 'string' || options.signingSecret === '')
    throw invalidInput('signingSecret', options.signingSecret, 'must be the Slack app signing secret');
  if (typeof options.resolveReviewer !== 'function')
    throw invalidInput('resolveReviewer', options.resolveReviewer, 'must be a function (userId, teamId) => Reviewer | null');
  if (options.authorize !== undefined && typeof options.authorize !== 'function')
    throw invalidInput('authorize', options.authorize, 'must be a function (reviewer, record, action) => boolean');
  if (typeof options.token !== 'string' || options.token === '') throw invalidInput('token', options.token, 'must be a Slack bot token');
}

function parsePayload(rawBody: string): SlackPayload {
  const text = new URLSearchParams(rawBody).get('payload');
  if (text === null) throw new Refusal(400, 'invalid_input', 'the body has no payload field');
  try {
    const payload = JSON.parse(text) as unknown;
    if (!isPlainObject(payload)) throw new Error('not an object');
    return payload as SlackPayload;
  } catch {
    throw new Refusal(400, 'invalid_input', 'payload is not a JSON object');
  }
}

/**
 * An Express router for your Slack app's interactivity URL. It verifies Slack's signature (and
 * refuses a signature seen before within the window), maps the clicking user to a reviewer with
 * `resolveReviewer`, applies `authorize`, decides exactly once through `manager.respond`
 * (`respondedBy` = the reviewer's id), answers Slack, then updates the message in place
 * ("Approved by @alice at 14:02", or "Already decided by @bob" for the click that lost).
 * Reject opens a modal for an optional reason; Edit opens a modal built from `request.inputSchema`,
 * and an edit the schema refuses is shown on its field. "Allow in this thread" approves with
 * `remember: { scope: 'thread' }` (a grant for the request's thread), and `authorize` must allow both
 * `'approve'` and `'grant'`, as `createReviewRouter` asks for a respond with `remember`.
 *
 * Refusals: 401 for a missing, forged, stale (over 300 s) or replayed signature; 403 for a user
 * `resolveReviewer` does not know, a decision (or grant) `authorize` refuses, or self-approval. None decides anything.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createSlackActionsRouter } from '@hitl/slack';
 *
 * const app = express();
 * app.use('/slack/actions', createSlackActionsRouter({
 *   manager,
 *   token: process.env.SLACK_BOT_TOKEN!,
 *   signingSecret: process.env.SLACK_SIGNING_SECRET!,
 *   resolveReviewer: (userId, teamId) => (teamId === process.env.SLACK_TEAM_ID ? { id: `slack:${userId}` } : null),
 * }));
 * ```
 */
export function createSlackActionsRouter<TReviewer extends Reviewer = Reviewer>(options: SlackActionsRouterOptions<TReviewer>): Router {
  validate(options as unknown as SlackActionsRouterOptions<Reviewer>);
  const {
    manager,
    signingSecret,
    resolveReviewer,
    authorize,
    token,
    slackApiUrl,
    mask = [],
    onError = (error) => console.error('[@hitl/slack]', error),
    now = Date.now,
  } = options;
  const client: WebClient = createWebClient(token, slackApiUrl);
  const replays = createReplayGuard({ windowMs: 2 * 300_000 });
  const later = (work: () => Promise<unknown>) => {
    setImmediate(() => void work().catch(onError));
  };

  /** `rememberedThread`: this click's approval made a thread grant (named in the message while the request stays pending). */
  const updateMessage = (
    record: ApprovalRecord,
    where: { channel?: string; ts?: string },
    note: { slackUserId: string; alreadyDecided: boolean; rememberedThread?: boolean },
  ) => {
    if (where.channel === undefined || where.ts === undefined) return;
    const { channel, ts } = where;
    const { rememberedThread = false, ...decisionNote } = note;
    later(async () => {
      const grant = await grantToShow(manager, record, { rememberedThread });
      await client.chat.update({ channel, ts, ...toSlackDecidedMessage(record, { ...decisionNote, mask, ...(grant ? { grant } : {}) }) });
    });
  };

  const identify = async (payload: SlackPayload): Promise<{ reviewer: TReviewer; userId: string; teamId: string | undefined }> => {
    const userId = payload.user?.id;
    const teamId = payload.team?.id ?? payload.user?.team_id;
    if (typeof userId !== 'string' || userId === '') throw new Refusal(400, 'invalid_input', 'payload has no user id');
    const reviewer = await resolveReviewer(userId, teamId);
    if (reviewer === null || reviewer === undefined)
      throw new Refusal(403, 'forbidden', `Slack user ${userId} of team ${teamId ?? '(none)'} is not a reviewer`);
    if (typeof reviewer.id !== 'string' || reviewer.id.trim() === '')
      throw new Error('resolveReviewer returned a reviewer without a non-empty string id');
    return { reviewer, userId, teamId };
  };

  /** The record, once `authorize` allows each of `actions` on it. */
  const recordFor = async (reviewer: TReviewer, id: string, actions: readonly ReviewAction[]): Promise<ApprovalRecord> => {
    const record = await manager.get(id);
    if (record === undefined) throw new Refusal(404, 'not_found', `no request with id '${id}'`);
    for (const action of actions) {
      if (authorize && (await authorize(reviewer, record, action)) !== true) {
        throw new Refusal(403, 'forbidden', `reviewer '${reviewer.id}' may not ${action} request '${id}'`);
      }
    }
    return record;
  };

  /** Decides; on a lost race returns the winner's record with `alreadyDecided`. */
  const decide = async (
    id: string,
    who: { reviewer: TReviewer; userId: string; teamId: string | undefined },
    input: { decision: Decision; feedback?: string; modified?: Record<string, unknown>; remember?: RememberInput },
  ): Promise<{ record: ApprovalRecord; alreadyDecided: boolean }> => {
    try {
      const record = await manager.respond(id, {
        ...input,
        respondedBy: who.reviewer.id,
        metadata: { slack: { userId: who.userId, ...(who.teamId === undefined ? {} : { teamId: who.teamId }) } },
      });
      return { record, alreadyDecided: false };
    } catch (error) {
      if (HitlError.is(error, 'conflict')) {
        const record = await manager.get(id);
        if (record !== undefined) return { record, alreadyDecided: true };
      }
      if (HitlError.is(error, 'forbidden')) throw new Refusal(403, 'forbidden', error.message);
      throw error;
    }
  };

  const onBlockActions = async (payload: SlackPayload, response: Response) => {
    const action = payload.actions?.[0];
    const button = action?.action_id === undefined ? undefined : BUTTONS[action.action_id];
    if (action === undefined || button === undefined || typeof action.value !== 'string') {
      response.status(200).end(); // not one of our buttons
      return;
    }
    const { decision, remember } = button;
    const who = await identify(payload);
    // Remembering a decision makes a grant: the reviewer needs the grant action too.
    const record = await recordFor(who.reviewer, action.value, remember === undefined ? [decision] : [decision, 'grant']);
    const where = {
      channel: payload.container?.channel_id ?? payload.channel?.id,
      ts: payload.container?.message_ts ?? payload.message?.ts,
    };
    if (decision === 'approve' || record.status !== 'pending') {
      const result =
        record.status === 'pending'
          ? await decide(record.request.id, who, { decision, ...(remember === undefined ? {} : { remember }) })
          : { record, alreadyDecided: true };
      response.status(200).end();
      updateMessage(result.record, where, {
        slackUserId: who.userId,
        alreadyDecided: result.alreadyDecided,
        rememberedThread: remember !== undefined && !result.alreadyDecided,
      });
      return;
    }
    // Reject and Edit ask first: answer Slack now, open the modal while the trigger id is valid (3 s).
    response.status(200).end();
    const triggerId = payload.trigger_id;
    if (typeof triggerId !== 'string') return;
    const context: ModalContext = {
      requestId: record.request.id,
      ...(where.channel === undefined ? {} : { channel: where.channel }),
      ...(where.ts === undefined ? {} : { ts: where.ts }),
    };
    const view = decision === 'reject' ? toRejectModal(record, context) : toEditModal(record, context);
    later(() => client.views.open({ trigger_id: triggerId, view }));
  };

  const onViewSubmission = async (payload: SlackPayload, response: Response) => {
    const callbackId = payload.view?.callback_id;
    const context = readModalContext(payload.view?.private_metadata);
    if ((callbackId !== 'hitl_reject' && callbackId !== 'hitl_edit') || context === undefined) {
      response.status(200).end();
      return;
    }
    const decision: Decision = callbackId === 'hitl_reject' ? 'reject' : 'modify';
    const who = await identify(payload);
    const record = await recordFor(who.reviewer, context.requestId, [decision]);
    const values = payload.view?.state?.values;
    let result: { record: ApprovalRecord; alreadyDecided: boolean };
    try {
      if (decision === 'reject') {
        const reason = values?.[REASON_BLOCK_ID]?.value?.value;
        result = await decide(record.request.id, who, { decision, ...(reason ? { feedback: reason } : {}) });
      } else {
        result = await decide(record.request.id, who, { decision, modified: readEditSubmission(record, values) });
      }
    } catch (error) {
      if (decision === 'modify' && HitlError.is(error, 'invalid_input')) {
        // Slack shows these under the field and keeps the modal open.
        response
          .status(200)
          .json({ response_action: 'errors', errors: { [errorBlockId(record, error.details?.path)]: error.message.slice(0, 1_500) } });
        return;
      }
      throw error;
    }
    response.status(200).end(); // closes the modal
    updateMessage(result.record, context, { slackUserId: who.userId, alreadyDecided: result.alreadyDecided });
  };

  const router = express.Router();
  router.post('/', express.raw({ type: () => true, limit: '1mb' }), async (request: Request, response: Response) => {
    try {
      const rawBody = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
      const signature = request.get('x-slack-signature');
      try {
        verifySlackRequest({ signingSecret, signature, timestamp: request.get('x-slack-request-timestamp'), rawBody, nowMs: now() });
      } catch (error) {
        throw new Refusal(401, 'unauthorized', error instanceof Error ? error.message : String(error));
      }
      if (!replays.firstUse(`${request.get('x-slack-request-timestamp')}:${signature}`, now())) {
        throw new Refusal(401, 'unauthorized', 'this signed Slack request was already received: replay refused');
      }
      const payload = parsePayload(rawBody);
      if (payload.type === 'block_actions') await onBlockActions(payload, response);
      else if (payload.type === 'view_submission') await onViewSubmission(payload, response);
      else response.status(200).end();
    } catch (error) {
      if (response.headersSent) {
        onError(error);
        return;
      }
      if (error instanceof Refusal) {
        response.status(error.status).json({ error: { code: error.code, message: error.message } });
        return;
      }
      const status = HitlError.is(error, 'not_found') ? 404 : HitlError.is(error, 'invalid_input') ? 400 : 500;
      if (status === 500) onError(error);
      response.status(status).json({
        error: {
          code: status === 500 ? 'internal' : (error as HitlError).code,
          message: status === 500 ? 'internal error' : (error as Error).message,
        },
      });
    }
  });
  return router;
}
