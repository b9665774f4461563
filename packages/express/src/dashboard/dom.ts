/** DOM helpers for the dashboard: every text goes in through `textContent`, never `innerHTML`. */

export type Attributes = Record<string, string>;

/** Creates `<tag>` with the given attributes and text (as text: markup in it stays text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes?: Attributes | null,
  text?: unknown,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attributes) for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** The element with this id, which the page's HTML guarantees. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the dashboard page has no #${id}`);
  return node as T;
}

let counter = 0;
/** A page-unique number for element ids. */
export function nextId(): number {
  counter += 1;
  return counter;
}

/** Names a control after its own text and the card's title ("Approve delete_user"), so no two cards' controls share a name. */
export function nameAfterCard(control: HTMLElement, titleId: string): void {
  control.id ||= `control-${nextId()}`;
  control.setAttribute('aria-labelledby', `${control.id} ${titleId} ${titleId}-ref`);
}

/** A label whose visible text is `text` and whose accessible text adds the tool ("… for delete_user"). */
export function cardLabel(forId: string, text: string, toolName: string, requestId: string): HTMLLabelElement {
  const label = el('label', { for: forId }, text);
  label.appendChild(el('span', { class: 'visually-hidden' }, ` for ${toolName} (request ${requestId})`));
  return label;
}
