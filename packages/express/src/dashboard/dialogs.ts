/**
 * The page's dialogs: keyboard help, and the confirmation asked before an irreversible decision,
 * whose title and confirming button say exactly what confirming does ("Approve and always allow").
 */
import { byId } from './dom.js';

export interface Wording {
  title: string;
  yes: string;
}

const APPROVE: Wording = { title: 'Confirm an irreversible approval', yes: 'Approve, it cannot be undone' };

export interface Dialogs {
  /** Asks to confirm `text` about `subject` (a request id, or a turn's key); `action` runs only on the confirming button. */
  confirm(subject: string, text: string, action: () => void, wording?: Wording): void;
  /** Closes the confirmation if it is about `subject` (decided elsewhere); true when it was open. */
  dismiss(subject: string): boolean;
  /** Whether a dialog is open (shortcuts wait). */
  readonly open: boolean;
  showHelp(): void;
}

export function createDialogs(): Dialogs {
  const help = byId<HTMLDialogElement>('help');
  byId('help-button').addEventListener('click', () => help.showModal());
  byId('help-close').addEventListener('click', () => help.close());
  const dialog = byId<HTMLDialogElement>('confirm');
  const text = byId('confirm-text');
  const title = byId('confirm-title');
  const yes = byId<HTMLButtonElement>('confirm-yes');
  let action: (() => void) | undefined;
  let subjectOpen: string | undefined;
  /** Forgets the question and closes it, at once: the `close` event comes later, as a task of its own. */
  const shut = () => {
    action = undefined;
    subjectOpen = undefined;
    if (dialog.open) dialog.close();
  };
  // Closed by Escape. The event arrives after `close()`, so a question asked in between (Cancel, then
  // a quick `a`) is open again by then and must keep its action.
  dialog.addEventListener('close', () => {
    if (!dialog.open) {
      action = undefined;
      subjectOpen = undefined;
    }
  });
  yes.addEventListener('click', () => {
    const run = action;
    shut();
    run?.();
  });
  byId('confirm-no').addEventListener('click', shut);

  return {
    confirm(subject, question, run, wording = APPROVE) {
      title.textContent = wording.title;
      yes.textContent = wording.yes;
      text.textContent = question;
      action = run;
      subjectOpen = subject;
      dialog.showModal();
      byId('confirm-no').focus();
    },
    dismiss(subject) {
      if (subjectOpen !== subject || !dialog.open) return false;
      shut();
      return true;
    },
    get open() {
      return help.open || dialog.open;
    },
    showHelp() {
      help.showModal();
    },
  };
}
