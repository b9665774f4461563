// Slack end to end against a fake Slack API: the approval message, clicks and modals deciding, forged or raced clicks, four eyes.
import { createManager, createMemoryStore, type ApprovalRecord, type Manager } from '@hitl/core';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockActionsPayload, formBody, startFakeSlack, viewSubmissionPayload, type FakeSlack } from './fake-slack.test-helper.js';
import { createSlackActionsRouter, createSlackNotifier, signSlackRequest, type SlackActionsRouterOptions } from './index.js';

const SECRET = 'slack-signing-secret';
const TEAM = 'T0HOME';
const reviewers: Record<string, string> = { U0ALICE: 'alice@example.com', U0BOB: 'bob@example.com' };

let slack: FakeSlack;
const managers: Manager[] = [];

beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  for (const manager of managers.splice(0)) manager.close();
  await slack.close();
});

function makeManager(store = createMemoryStore()): Manager {
  const manager = createManager({
    store,
    timeoutMs: 60_000,
    notifiers: [createSlackNotifier({ token: 'xoxb-test', channel: 'C0APPROVALS', slackApiUrl: slack.url, mask: ['password'] })],
  });
  managers.push(manager);
  return manager;
}

function makeApp(manager: Manager, extra: Partial<SlackActionsRouterOptions> = {}) {
  const app = express();
  app.use(
    '/slack/actions',
    createSlackActionsRouter({
      manager,
      signingSecret: SECRET,
      token: 'xoxb-test',
      slackApiUrl: slack.url,
      resolveReviewer: (userId, teamId) => (teamId === TEAM && reviewers[userId] ? { id: reviewers[userId] } : null),
      onError: (error) => {
        throw error;
      },
      ...extra,
    }),
  );
  return app;
}

function post(
  app: express.Express,
  payload: Record<string, unknown>,
  { secret = SECRET, timestamp }: { secret?: string; timestamp?: number } = {},
) {
  const rawBody = formBody(payload);
  const headers = signSlackRequest({ signingSecret: secret, rawBody, ...(timestamp === undefined ? {} : { timestamp }) });
  return request(app).post('/slack/actions').set(headers).type('form').send(rawBody);
}

const schema = {
  type: 'object',
  properties: { amount: { type: 'number', description: 'EUR' }, to: { type: 'string' } },
  required: ['amount', 'to'],
  additionalProperties: false,
};

async function pending(
  manager: Manager,
  input: Record<string, unknown> = { amount: 120, to: 'DE89 3704', password: 'hunter2' },
): Promise<ApprovalRecord> {
  return manager.submit({
    toolName: 'transfer_money',
    input,
    riskLevel: 'irreversible',
    confidence: 0.42,
    requestedBy: 'agent@example.com',
    description: 'Pay <!channel> invoice',
    inputSchema: schema,
  });
}

/** A transfer in an agent's conversation (`threadId`): the kind of request "Allow in this thread" is offered on. */
async function pendingInThread(manager: Manager, threadId: string, amount = 120): Promise<ApprovalRecord> {
  return manager.submit({
    toolName: 'transfer_money',
    input: { amount, to: 'DE89 3704' },
    riskLevel: 'irreversible',
    confidence: 0.42,
    requestedBy: 'agent@example.com',
    threadId,
  });
}

interface ButtonElement {
  action_id: string;
  value: string;
  confirm?: { title: { text: string }; text: { text: string }; confirm: { text: string }; deny: { text: string } };
}

function buttonsOf(blocks: unknown): ButtonElement[] {
  return (blocks as Array<{ type: string; elements?: ButtonElement[] }>).find((block) => block.type === 'actions')?.elements ?? [];
}

describe('createSlackNotifier', () => {
  it('posts a Block Kit message with escaped, masked data and the three buttons', async () => {
    const manager = makeManager();
    const record = await pending(manager, {
      amount: 120,
      to: '<!channel> & <https://evil|click>',
      password: 'hunter2',
      long: 'x'.repeat(500),
    });
    const [call] = await slack.waitForCalls('chat.postMessage');
    expect(call?.authorization).toBe('Bearer xoxb-test');
    const text = JSON.stringify(call?.args);
    expect(call?.args.channel).toBe('C0APPROVALS');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    expect(text).not.toContain('x'.repeat(200));
    const actions = (call?.args.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find(
      (block) => block.type === 'actions',
    );
    expect(actions?.elements?.map((element) => [element.action_id, element.value])).toEqual([
      ['hitl_approve', record.request.id],
      ['hitl_reject', record.request.id],
      ['hitl_edit', record.request.id],
    ]);
  });
});

describe('"Allow in this thread"', () => {
  it('is offered, with a confirmation, only on approval requests that have a thread', async () => {
    const manager = makeManager();
    const inThread = await pendingInThread(manager, 'thread-1');
    await pending(manager); // no threadId
    await manager.submit({ type: 'feedback', toolName: 'draft_reply', input: { to: 'ann' }, threadId: 'thread-1' });
    const posted = await slack.waitForCalls('chat.postMessage', 3);
    const [first, second, third] = posted.map((call) => buttonsOf(call.args.blocks));
    expect(first?.map((button) => button.action_id)).toEqual(['hitl_approve', 'hitl_reject', 'hitl_allow_thread']);
    const allow = first?.[2];
    expect(allow?.value).toBe(inThread.request.id);
    expect(allow?.confirm?.title.text).toBe('Allow in this thread?');
    expect(allow?.confirm?.text.text).toContain('later transfer_money calls in this thread (those waiting too) run without asking');
    expect(allow?.confirm?.confirm.text).toBe('Approve and allow');
    expect(second?.map((button) => button.action_id)).not.toContain('hitl_allow_thread');
    expect(third?.map((button) => button.action_id)).not.toContain('hitl_allow_thread');
  });

  it('approves, makes a grant for the thread that approves its next call, and not calls in other threads', async () => {
    const manager = makeManager();
    const record = await pendingInThread(manager, 'thread-1');
    const response = await post(
      makeApp(manager),
      blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_allow_thread', requestId: record.request.id }),
    );
    expect(response.status).toBe(200);
    const decided = await manager.get(record.request.id);
    expect(decided?.response).toMatchObject({ decision: 'approve', respondedBy: 'alice@example.com' });
    const { items: grants } = await manager.listGrants({ threadId: 'thread-1' });
    expect(grants).toHaveLength(1);
    expect(grants[0]).toMatchObject({
      id: decided?.response?.grantId,
      effect: 'approve',
      toolPattern: 'transfer_money',
      scope: { threadId: 'thread-1' },
      grantedBy: 'alice@example.com',
    });

    const [update] = await slack.waitForCalls('chat.update');
    const updated = JSON.stringify(update?.args.blocks);
    expect(updated).toMatch(/Approved by <@U0ALICE> at <!date\^\d+\^[^>]*>, allowed in this thread/);
    expect(updated).not.toContain('hitl_allow_thread');
    // A late click reads the grant back from the decision: the message keeps saying what was allowed.
    await post(
      makeApp(manager),
      blockActionsPayload({ userId: 'U0BOB', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
    );
    const [, late] = await slack.waitForCalls('chat.update', 2);
    expect(JSON.stringify(late?.args.blocks)).toMatch(
      /Already decided by <@U0ALICE>: approved at <!date\^\d+\^[^>]*>, allowed in this thread/,
    );

    const call = { toolName: 'transfer_money', input: { amount: 5, to: 'DE89' }, riskLevel: 'irreversible' as const, confidence: 0.42 };
    expect(manager.evaluate({ ...call, threadId: 'thread-1' })).toMatchObject({ outcome: 'approve', grant: grants[0]?.id });
    expect(manager.evaluate({ ...call, threadId: 'thread-2' }).outcome).toBe('review');
    const next = await pendingInThread(manager, 'thread-1', 5);
    expect(next.status).toBe('approved');
    expect(next.evaluation.grant).toBe(grants[0]?.id);
    expect((await pendingInThread(manager, 'thread-2', 5)).status).toBe('pending');
    await slack.waitForCalls('chat.postMessage', 2); // the first request and the one in thread-2: nobody asked about the next
  });

  it('needs authorize to allow the grant action too: refused, nothing decided, while Approve still works', async () => {
    const manager = makeManager();
    const record = await pendingInThread(manager, 'thread-1');
    const app = makeApp(manager, { authorize: (_reviewer, _record, action) => action !== 'grant' });
    const refused = await post(
      app,
      blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_allow_thread', requestId: record.request.id }),
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('may not grant') });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    expect((await manager.listGrants()).items).toHaveLength(0);
    expect(slack.callsTo('chat.update')).toHaveLength(0);

    const approved = await post(
      app,
      blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
    );
    expect(approved.status).toBe(200);
    expect((await manager.get(record.request.id))?.status).toBe('approved');
    expect((await manager.listGrants()).items).toHaveLength(0);
    expect(JSON.stringify((await slack.waitForCalls('chat.update'))[0]?.args.blocks)).not.toContain('allowed in this thread');
  });

  it('refuses forged and replayed clicks: nothing decided, no grant', async () => {
    const manager = makeManager();
    const record = await pendingInThread(manager, 'thread-1');
    const app = makeApp(manager);
    const click = blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_allow_thread', requestId: record.request.id });
    expect((await post(app, click, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await post(app, click, { timestamp: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    expect((await manager.listGrants()).items).toHaveLength(0);

    const rawBody = formBody(click);
    const headers = signSlackRequest({ signingSecret: SECRET, rawBody });
    expect((await request(app).post('/slack/actions').set(headers).type('form').send(rawBody)).status).toBe(200);
    await manager.revokeGrant((await manager.listGrants()).items[0]!.id, { revokedBy: 'admin@example.com' });
    const replay = await request(app).post('/slack/actions').set(headers).type('form').send(rawBody);
    expect(replay.status).toBe(401);
    expect((await manager.listGrants({ active: true })).items).toHaveLength(0);
    await slack.waitForCalls('chat.update');
  });

  it('four eyes: the click is one approval; the grant gives later calls one approval, and the message says so', async () => {
    const manager = makeManager();
    manager.addPolicy({ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 });
    const record = await pendingInThread(manager, 'thread-1');
    const [posted] = await slack.waitForCalls('chat.postMessage');
    const allow = buttonsOf(posted?.args.blocks).find((button) => button.action_id === 'hitl_allow_thread');
    expect(allow?.confirm?.text.text).toContain('(one of 2 approvals)');
    expect(allow?.confirm?.text.text).toContain('each still needs another approver');
    expect(allow?.confirm?.text.text).not.toContain('without asking');

    const app = makeApp(manager);
    const click = (userId: string, actionId: string) =>
      post(app, blockActionsPayload({ userId, teamId: TEAM, actionId, requestId: record.request.id }));
    expect((await click('U0ALICE', 'hitl_allow_thread')).status).toBe(200);
    const pendingRecord = await manager.get(record.request.id);
    expect(pendingRecord?.status).toBe('pending');
    expect(pendingRecord?.approvals?.map((approval) => approval.by)).toEqual(['alice@example.com']);
    expect((await manager.listGrants({ threadId: 'thread-1' })).items).toMatchObject([{ grantedBy: 'alice@example.com' }]);

    const [first] = await slack.waitForCalls('chat.update');
    const firstText = JSON.stringify(first?.args.blocks);
    expect(firstText).toContain(
      '<@U0ALICE> approved; `transfer_money` allowed in this thread as one approval: later calls still need another approver',
    );
    expect(firstText).toContain('hitl_approve');

    // The next call in the thread starts with Alice's approval and still waits for a second reviewer.
    const next = await pendingInThread(manager, 'thread-1', 5);
    expect(next.status).toBe('pending');
    expect(next.approvals?.map((approval) => approval.by)).toEqual(['alice@example.com']);
    expect(
      manager.evaluate({
        toolName: 'transfer_money',
        input: { amount: 5, to: 'DE89' },
        riskLevel: 'irreversible',
        confidence: 1,
        threadId: 'thread-1',
      }).outcome,
    ).toBe('review');

    expect((await click('U0BOB', 'hitl_approve')).status).toBe(200);
    expect((await manager.get(record.request.id))?.status).toBe('approved');
    await slack.waitForCalls('chat.update', 2);
    await slack.waitForCalls('chat.postMessage', 3); // the request, "another approver is needed", the next call
  });
});

describe('createSlackActionsRouter', () => {
  it('approves on a click, answers 200, and updates the message in place', async () => {
    const manager = makeManager();
    const record = await pending(manager);
    const waiting = manager.waitFor(record.request.id);
    const response = await post(
      makeApp(manager),
      blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
    );
    expect(response.status).toBe(200);
    const decision = await waiting;
    expect(decision).toMatchObject({ decision: 'approve', respondedBy: 'alice@example.com' });
    const [update] = await slack.waitForCalls('chat.update');
    expect(update?.args).toMatchObject({ channel: 'C0APPROVALS', ts: '1767225600.000001' });
    expect(JSON.stringify(update?.args.blocks)).toMatch(/Approved by <@U0ALICE> at <!date\^\d+\^/);
    expect(JSON.stringify(update?.args.blocks)).not.toContain('hitl_approve');
  });

  it('refuses forged, stale, replayed and wrong-team requests, and they decide nothing', async () => {
    const manager = makeManager();
    const record = await pending(manager);
    const app = makeApp(manager);
    const click = (userId: string, teamId: string) =>
      blockActionsPayload({ userId, teamId, actionId: 'hitl_approve', requestId: record.request.id });

    expect((await post(app, click('U0ALICE', TEAM), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await post(app, click('U0ALICE', TEAM), { timestamp: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    const unsigned = await request(app)
      .post('/slack/actions')
      .type('form')
      .send(formBody(click('U0ALICE', TEAM)));
    expect(unsigned.status).toBe(401);
    const wrongTeam = await post(app, click('U0ALICE', 'T0OTHER'));
    expect(wrongTeam.status).toBe(403);
    expect(wrongTeam.body.error.code).toBe('forbidden');
    expect((await post(app, click('U0MALLORY', TEAM))).status).toBe(403);
    expect((await manager.get(record.request.id))?.status).toBe('pending');

    // Replay: the very same signed bytes twice. The first decides, the second is refused.
    const rawBody = formBody(click('U0ALICE', TEAM));
    const headers = signSlackRequest({ signingSecret: SECRET, rawBody });
    expect((await request(app).post('/slack/actions').set(headers).type('form').send(rawBody)).status).toBe(200);
    const replay = await request(app).post('/slack/actions').set(headers).type('form').send(rawBody);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/replay/);
    expect((await manager.get(record.request.id))?.response?.respondedBy).toBe('alice@example.com');
    await slack.waitForCalls('chat.update');
  });

  it('refuses what authorize refuses, and self-approval', async () => {
    const manager = makeManager();
    const record = await pending(manager);
    const app = makeApp(manager, { authorize: (reviewer, _record, action) => action !== 'approve' || reviewer.id === 'bob@example.com' });
    const refused = await post(
      app,
      blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
    );
    expect(refused.status).toBe(403);
    reviewers.U0AGENT = 'AGENT@example.com';
    const self = await post(
      makeApp(manager),
      blockActionsPayload({ userId: 'U0AGENT', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
    );
    delete reviewers.U0AGENT;
    expect(self.status).toBe(403);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('a click on another instance after the decision decides nothing and says "Already decided by"', async () => {
    const store = createMemoryStore();
    const first = makeManager(store);
    const second = makeManager(store);
    const record = await pending(first);
    expect(
      (
        await post(
          makeApp(first),
          blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
        )
      ).status,
    ).toBe(200);
    const late = await post(
      makeApp(second),
      blockActionsPayload({ userId: 'U0BOB', teamId: TEAM, actionId: 'hitl_reject', requestId: record.request.id }),
    );
    expect(late.status).toBe(200);
    const updates = await slack.waitForCalls('chat.update', 2);
    expect(slack.callsTo('views.open')).toHaveLength(0); // no reason asked for a decided request
    expect((await second.get(record.request.id))?.response).toMatchObject({ decision: 'approve', respondedBy: 'alice@example.com' });
    expect(JSON.stringify(updates[1]?.args.blocks)).toContain('Already decided by <@U0ALICE>');
  });

  it('four eyes: each click is one approval; the message keeps its buttons and says another approver is needed until the last one', async () => {
    const manager = makeManager();
    manager.addPolicy({ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 });
    const record = await pending(manager);
    const [posted] = await slack.waitForCalls('chat.postMessage');
    const postedText = JSON.stringify(posted?.args.blocks);
    expect(postedText).toContain('*Approvals:* 0 of 2 · 2 more distinct approvers are needed');
    // Several approvers: the request cannot be edited, so no Edit button.
    expect(postedText).not.toContain('hitl_edit');
    const app = makeApp(manager);
    const click = (userId: string) =>
      post(app, blockActionsPayload({ userId, teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }));

    expect((await click('U0ALICE')).status).toBe(200);
    const [first] = await slack.waitForCalls('chat.update');
    const firstText = JSON.stringify(first?.args.blocks);
    expect(firstText).toContain('*Approvals:* 1 of 2 (alice@example.com) · another approver is needed');
    expect(firstText).toContain('hitl_approve');
    // The reviewers are told again that the request still needs another approver.
    const [, again] = await slack.waitForCalls('chat.postMessage', 2);
    expect(JSON.stringify(again?.args.blocks)).toContain('1 of 2 (alice@example.com)');

    // Alice again: refused; the request stays as it was.
    expect((await click('U0ALICE')).status).toBe(200);
    await slack.waitForCalls('chat.update', 2);
    expect((await manager.get(record.request.id))?.approvals).toHaveLength(1);

    expect((await click('U0BOB')).status).toBe(200);
    const updates = await slack.waitForCalls('chat.update', 3);
    const last = JSON.stringify(updates[2]?.args.blocks);
    expect(last).toMatch(/Approved by <@U0BOB> at/);
    expect(last).toContain('*Approvals:* 2 of 2 (alice@example.com, bob@example.com)');
    expect(last).not.toContain('hitl_approve');
    expect((await manager.get(record.request.id))?.status).toBe('approved');
  });

  it('two approve clicks racing: one wins, the loser is told who won', async () => {
    const store = createMemoryStore();
    const first = makeManager(store);
    const second = makeManager(store);
    const record = await pending(first);
    const results = await Promise.all([
      post(
        makeApp(first),
        blockActionsPayload({ userId: 'U0ALICE', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id }),
      ),
      post(makeApp(second), blockActionsPayload({ userId: 'U0BOB', teamId: TEAM, actionId: 'hitl_approve', requestId: record.request.id })),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200]);
    const updates = await slack.waitForCalls('chat.update', 2);
    const winner = (await first.get(record.request.id))?.response?.metadata?.slack as { userId: string };
    const texts = updates.map((call) => JSON.stringify(call.args.blocks));
    expect(texts.filter((text) => text.includes(`Approved by <@${winner.userId}>`))).toHaveLength(1);
    expect(texts.filter((text) => text.includes(`Already decided by <@${winner.userId}>`))).toHaveLength(1);
  });

  it('Reject opens a modal for a reason; its submission rejects with that reason', async () => {
    const manager = makeManager();
    const record = await pending(manager);
    const app = makeApp(manager);
    expect(
      (await post(app, blockActionsPayload({ userId: 'U0BOB', teamId: TEAM, actionId: 'hitl_reject', requestId: record.request.id })))
        .status,
    ).toBe(200);
    const [open] = await slack.waitForCalls('views.open');
    const view = open?.args.view as Record<string, unknown>;
    expect(view.callback_id).toBe('hitl_reject');
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    const submit = await post(
      app,
      viewSubmissionPayload({
        userId: 'U0BOB',
        teamId: TEAM,
        view,
        values: { hitl_reason: { value: { type: 'plain_text_input', value: 'wrong IBAN' } } },
      }),
    );
    expect(submit.status).toBe(200);
    expect((await manager.get(record.request.id))?.response).toMatchObject({
      decision: 'reject',
      feedback: 'wrong IBAN',
      respondedBy: 'bob@example.com',
    });
    const [update] = await slack.waitForCalls('chat.update');
    expect(JSON.stringify(update?.args.blocks)).toContain('Rejected by <@U0BOB>');
  });

  it('Edit opens a modal from the input schema; an invalid edit is shown on its field, a valid one is recorded', async () => {
    const manager = makeManager();
    const record = await pending(manager, { amount: 120, to: 'DE89' });
    const app = makeApp(manager);
    await post(app, blockActionsPayload({ userId: 'U0BOB', teamId: TEAM, actionId: 'hitl_edit', requestId: record.request.id }));
    const [open] = await slack.waitForCalls('views.open');
    const view = open?.args.view as { callback_id: string; blocks: Array<{ block_id: string; element: { initial_value?: string } }> };
    expect(view.callback_id).toBe('hitl_edit');
    expect(view.blocks.map((block) => [block.block_id, block.element.initial_value])).toEqual([
      ['hitl_field:amount', '120'],
      ['hitl_field:to', 'DE89'],
    ]);
    const values = (amount: string) => ({
      'hitl_field:amount': { value: { type: 'plain_text_input', value: amount } },
      'hitl_field:to': { value: { type: 'plain_text_input', value: 'DE89' } },
    });
    const invalid = await post(app, viewSubmissionPayload({ userId: 'U0BOB', teamId: TEAM, view, values: values('a lot') }));
    expect(invalid.status).toBe(200);
    expect(invalid.body.response_action).toBe('errors');
    expect(Object.keys(invalid.body.errors)).toEqual(['hitl_field:amount']);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    const valid = await post(app, viewSubmissionPayload({ userId: 'U0BOB', teamId: TEAM, view, values: values('99.5') }));
    expect(valid.status).toBe(200);
    expect((await manager.get(record.request.id))?.response).toMatchObject({ decision: 'modify', modified: { amount: 99.5, to: 'DE89' } });
    expect(JSON.stringify((await slack.waitForCalls('chat.update'))[0]?.args.blocks)).toContain('Approved with edits by <@U0BOB>');
  });
});
