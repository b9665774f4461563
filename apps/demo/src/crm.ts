// The demo's in-memory CRM: customers, emails sent and deletions, for the tools to act on.
/** A tiny customer database the demo agents act on, so a test can see what they really did. */
export interface Customer {
  id: string;
  name: string;
  email: string;
  plan: 'pro' | 'free';
  deleted: boolean;
}

export interface SentEmail {
  to: string;
  subject: string;
  body: string;
}

export interface Crm {
  customers: Map<string, Customer>;
  orders: Map<string, Array<{ id: string; total: number; status: string }>>;
  outbox: SentEmail[];
  getUser(userId: string): Customer | { error: string };
  searchOrders(customerId: string): Array<{ id: string; total: number; status: string }>;
  updateUser(userId: string, plan: Customer['plan']): Customer | { error: string };
  deleteUser(userId: string): { deleted: string } | { error: string };
  sendEmail(email: SentEmail): { sent: string };
  refundPayment(orderId: string, amount: number): { refunded: string; amount: number } | { error: string };
  refunds: Array<{ orderId: string; amount: number }>;
  snapshot(): { customers: Customer[]; outbox: SentEmail[] };
}

export function createCrm(): Crm {
  const customers = new Map<string, Customer>([
    ['12345', { id: '12345', name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro', deleted: false }],
    ['67890', { id: '67890', name: 'Alan Turing', email: 'alan@example.com', plan: 'pro', deleted: false }],
  ]);
  const orders = new Map([
    ['12345', [{ id: 'A-1001', total: 49, status: 'refunded' }]],
    [
      '67890',
      [
        { id: 'B-2001', total: 99, status: 'paid' },
        { id: 'B-2002', total: 12, status: 'refunded' },
      ],
    ],
  ]);
  const outbox: SentEmail[] = [];
  const refunds: Array<{ orderId: string; amount: number }> = [];
  const find = (userId: string) => {
    const customer = customers.get(userId);
    return customer && !customer.deleted ? customer : undefined;
  };
  return {
    customers,
    orders,
    outbox,
    refunds,
    getUser: (userId) => (find(userId) ? { ...find(userId)! } : { error: `no customer ${userId}` }),
    searchOrders: (customerId) => [...(orders.get(customerId) ?? [])],
    updateUser(userId, plan) {
      const customer = find(userId);
      if (!customer) return { error: `no customer ${userId}` };
      customer.plan = plan;
      return { ...customer };
    },
    deleteUser(userId) {
      const customer = find(userId);
      if (!customer) return { error: `no customer ${userId}` };
      customer.deleted = true;
      return { deleted: userId };
    },
    refundPayment(orderId, amount) {
      const order = [...orders.values()].flat().find((candidate) => candidate.id === orderId);
      if (!order) return { error: `no order ${orderId}` };
      refunds.push({ orderId, amount });
      return { refunded: orderId, amount };
    },
    sendEmail(email) {
      outbox.push({ ...email });
      return { sent: email.to };
    },
    snapshot: () => ({
      customers: [...customers.values()].map((customer) => ({ ...customer })),
      outbox: outbox.map((email) => ({ ...email })),
    }),
  };
}
