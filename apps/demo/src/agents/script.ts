/** The support script both demo agents follow: the calls they make and what each tool does to the CRM. */
import type { Crm } from '../crm.js';
import type { Narrator, Run } from '../narrator.js';
import { toolRisk } from '../policies.js';

/** One scripted tool call of the support conversation. */
export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
}

/**
 * The support conversation both agents follow for a customer who wants to close their account: look
 * them up and check their orders, downgrade the plan, then delete the account and email them — the
 * last two in parallel, both waiting for a human.
 */
export function supportScript(customerId: string, email: string, followUp = false): ScriptedCall[][] {
  const turns: ScriptedCall[][] = [
    [
      { name: 'get_user', args: { user_id: customerId } },
      { name: 'search_orders', args: { customer_id: customerId } },
    ],
    // A goodwill refund of 12: within 'small-refunds' (input.amount <= 50), so it runs at once.
    [{ name: 'refund_payment', args: { order_id: customerId === '12345' ? 'A-1001' : 'B-2001', amount: 12 } }],
    [{ name: 'update_user', args: { user_id: customerId, plan: 'free' } }],
    [
      { name: 'delete_user', args: { user_id: customerId } },
      {
        name: 'send_email',
        args: {
          to: email,
          subject: 'Your account is closed',
          body: 'We closed your account as you asked. Your last refund is on its way.',
        },
      },
    ],
  ];
  // A second email in the same thread: it runs without review once a reviewer approved the first
  // with "allow in this thread" (a grant).
  if (followUp)
    turns.push([
      { name: 'send_email', args: { to: email, subject: 'Your data export', body: 'Here is the export of your data you asked for.' } },
    ]);
  return turns;
}

export const customerRequest = (customerId: string) => `Customer ${customerId} writes: "Please close my account and confirm by email."`;

/** What reviewers read on the dashboard for each call. */
export function describeCall(name: string, args: Record<string, unknown>, run: Run): string {
  const who = `customer ${String(args.user_id ?? args.customer_id ?? args.to ?? run.customerId)}`;
  const what: Record<string, string> = {
    get_user: `Look up ${who}`,
    search_orders: `List the orders of ${who}`,
    update_user: `Change the plan of ${who} to ${String(args.plan)}`,
    delete_user: `Delete the account of ${who} and all its data`,
    send_email: `Email ${String(args.to)}: "${String(args.subject)}"`,
    refund_payment: `Refund ${String(args.amount)} on order ${String(args.order_id)}`,
  };
  return `${what[name] ?? name} (${run.framework} agent, ${run.id})`;
}

/** Runs a tool body against the CRM and narrates it. */
export function perform(
  context: { crm: Crm; narrator: Narrator; run: Run },
  name: string,
  toolCallId: string | undefined,
  args: Record<string, unknown>,
): unknown {
  const { crm, narrator, run } = context;
  const how =
    toolCallId && narrator.reviewed.has(toolCallId)
      ? 'ran after review'
      : name === 'send_email'
        ? 'approved by a remembered decision (a grant for this thread) and ran, nobody was asked'
        : name === 'refund_payment'
          ? "auto-approved: policy 'small-refunds' reads the arguments (input.amount <= 50 holds) and ran"
          : `auto-approved (${toolRisk[name]}) and ran`;
  let output: unknown;
  switch (name) {
    case 'get_user':
      output = crm.getUser(String(args.user_id));
      break;
    case 'search_orders':
      output = crm.searchOrders(String(args.customer_id));
      break;
    case 'update_user':
      output = crm.updateUser(String(args.user_id), args.plan === 'free' ? 'free' : 'pro');
      break;
    case 'delete_user':
      output = crm.deleteUser(String(args.user_id));
      break;
    case 'refund_payment':
      output = crm.refundPayment(String(args.order_id), Number(args.amount));
      break;
    case 'send_email':
      output = crm.sendEmail({ to: String(args.to), subject: String(args.subject), body: String(args.body) });
      break;
    default:
      throw new Error(`unknown tool ${name}`);
  }
  narrator.say(run, `▶  ${name}(${JSON.stringify(args)}) ${how} → ${JSON.stringify(output)}`);
  return output;
}
