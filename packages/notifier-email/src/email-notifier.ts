/** `createEmailNotifier`: emails each pending request to its reviewers through a transport. */
import type { ApprovalRecord, Notifier } from '@hitl/core';
import { invalidInput, isPlainObject } from '@hitl/core/internal';
import nodemailer from 'nodemailer';
import { toEmailContent, type EmailDecisionLinks } from './email-message.js';

/**
 * What the notifier needs of a transport: nodemailer's `Transporter` fits.
 *
 * @example
 * ```ts
 * const transport: EmailTransport = { sendMail: async (message) => console.log(message.subject) };
 * ```
 */
export interface EmailTransport {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html: string;
    headers?: Record<string, string>;
  }): Promise<unknown>;
}

/**
 * Options of {@link createEmailNotifier}.
 *
 * @example
 * ```ts
 * const options: EmailNotifierOptions = {
 *   transport: 'smtp://127.0.0.1:2525',
 *   from: 'hitl <hitl@example.com>',
 *   to: () => ['alice@example.com'],
 * };
 * ```
 */
export interface EmailNotifierOptions {
  /** A nodemailer transporter (anything with `sendMail`), or what `nodemailer.createTransport` takes: an SMTP URL or options object. */
  transport: EmailTransport | string | Record<string, unknown>;
  /** The sender, e.g. `'hitl <hitl@example.com>'`. */
  from: string;
  /** The reviewers to write to for a record; each gets one email. Their address is the reviewer id of their links. */
  to: (record: ApprovalRecord) => string[] | Promise<string[]>;
  /** `createDecisionLinks(...)` from `@hitl/express`: each email then carries its recipient's own Approve / Reject / Review links. */
  links?: { links(record: ApprovalRecord, reviewerId: string): EmailDecisionLinks };
  /** The notifier's name in `notify-failed` events. Default `'email'`. */
  name?: string;
}

function toTransport(transport: EmailNotifierOptions['transport']): EmailTransport {
  if (isPlainObject(transport) && typeof (transport as { sendMail?: unknown }).sendMail === 'function')
    return transport as unknown as EmailTransport;
  if (typeof (transport as { sendMail?: unknown } | undefined)?.sendMail === 'function') return transport as EmailTransport;
  if (typeof transport === 'string' || isPlainObject(transport)) {
    return nodemailer.createTransport(transport as Parameters<typeof nodemailer.createTransport>[0]) as unknown as EmailTransport;
  }
  throw invalidInput('transport', transport, 'must be a nodemailer transporter, an SMTP URL or transport options');
}

/**
 * A notifier that emails each pending request (plain text and HTML, all data escaped) through
 * nodemailer. With `links`, every recipient gets their own signed Approve / Reject / Review links:
 * opening one shows a confirmation page, and the click there decides.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createEmailNotifier } from '@hitl/notifier-email';
 *
 * const manager = createManager({
 *   notifiers: [createEmailNotifier({ transport: process.env.SMTP_URL ?? 'smtp://127.0.0.1:2525', from: 'hitl@example.com', to: () => ['alice@example.com'] })],
 * });
 * manager.close();
 * ```
 */
export function createEmailNotifier(options: EmailNotifierOptions): Notifier {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { from, to, links, name = 'email' } = options;
  if (typeof from !== 'string' || from.trim() === '') throw invalidInput('from', from, 'must be a sender address');
  if (typeof to !== 'function') throw invalidInput('to', to, 'must be a function (record) => string[]');
  if (links !== undefined && typeof links?.links !== 'function')
    throw invalidInput('links', links, 'must be what createDecisionLinks returns');
  const transport = toTransport(options.transport);
  return {
    name,
    async notify(record: ApprovalRecord) {
      const recipients = await to(record);
      if (!Array.isArray(recipients) || recipients.some((address) => typeof address !== 'string' || address.trim() === '')) {
        throw invalidInput('to(record)', recipients, 'must return an array of email addresses');
      }
      // One email per reviewer: each carries links bound to its recipient.
      await Promise.all(
        recipients.map((address) =>
          transport.sendMail({
            from,
            to: address,
            ...toEmailContent(record, links?.links(record, address)),
            headers: { 'X-Hitl-Request-Id': record.request.id },
          }),
        ),
      );
    },
  };
}
