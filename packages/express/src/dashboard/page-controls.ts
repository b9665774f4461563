/** The page's tabs (Pending, History, Grants; arrow keys move between them) and its keyboard shortcuts (j/k, a/r, ?). */
import type { Card } from './card.js';
import type { Dialogs } from './dialogs.js';
import { byId } from './dom.js';

export interface Tabs {
  show(id: 'tab-pending' | 'tab-history' | 'tab-grants'): void;
}

/** Wires the tab buttons; `opened` runs each time a tab is shown (History and Grants reload then). */
export function createTabs(opened: (id: string) => void): Tabs {
  const tabs = [byId<HTMLButtonElement>('tab-pending'), byId<HTMLButtonElement>('tab-history'), byId<HTMLButtonElement>('tab-grants')];
  const showTab = (tab: HTMLButtonElement) => {
    for (const other of tabs) {
      const active = other === tab;
      other.setAttribute('aria-selected', String(active));
      other.tabIndex = active ? 0 : -1;
      byId(other.getAttribute('aria-controls') ?? '').hidden = !active;
    }
    opened(tab.id);
  };
  for (const tab of tabs) {
    tab.addEventListener('click', () => showTab(tab));
    tab.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const other = tabs[(tabs.indexOf(tab) + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      if (other) {
        showTab(other);
        other.focus();
      }
    });
  }
  return { show: (id) => showTab(byId<HTMLButtonElement>(id)) };
}

export interface ShortcutHost {
  dialogs: Dialogs;
  /** The cards in the order shown. */
  orderedCards(): Card[];
  selected(): string | undefined;
  select(card: Card | undefined): void;
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** j/k select the next/previous card, a/r press its Approve/Reject (which confirm as when clicked), ? shows help. */
export function installShortcuts(host: ShortcutHost): void {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (host.dialogs.open || byId('pending-view').hidden) return;
    const order = host.orderedCards();
    const index = order.findIndex((card) => card.record.request.id === host.selected());
    const current = index === -1 ? undefined : order[index];
    if (event.key === 'j' || event.key === 'k') {
      const step = event.key === 'j' ? 1 : -1;
      host.select(order[index === -1 ? 0 : Math.min(order.length - 1, Math.max(0, index + step))]);
    } else if (event.key === 'a' && current?.approve) {
      // The card's Approve asks first for an irreversible (or unrated) call, as it does when clicked.
      current.approve();
    } else if (event.key === 'r' && current?.reject) {
      current.reject();
    } else if (event.key === '?') {
      host.dialogs.showHelp();
    } else return;
    event.preventDefault();
  });
}
