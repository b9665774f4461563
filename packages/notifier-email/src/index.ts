// The public entry of @hitl/notifier-email.
export { createEmailNotifier, type EmailNotifierOptions, type EmailTransport } from './email-notifier.js';
export { toEmailContent, type EmailContent, type EmailDecisionLinks } from './email-message.js';
