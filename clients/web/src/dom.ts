// DOM construction without innerHTML: alert messages, process arguments and container names come from
// the monitored (possibly hostile) workloads, so every piece of API data reaches the page as a text node.

export type Child = Node | string | number | null | undefined | false;
type Listener = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

/**
 * h('a', { href: '#/', class: 'x', 'data-id': id, onclick: fn }, 'text', child...).
 * Attribute values are set with setAttribute (never parsed as markup); `value` and `checked` are set
 * as properties so that a re-render keeps form state coherent; false/null/undefined omit the attribute.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'value' && 'value' in el) {
        (el as HTMLInputElement).value = String(v);
      } else if (k === 'checked' && 'checked' in el) {
        (el as HTMLInputElement).checked = v === true;
      } else if (k === 'href' && !isSafeHref(String(v))) {
        throw new Error(`refusing href ${JSON.stringify(v)}: only in-page and relative links are built`);
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/** Links are built by the app only (#/..., relative); this keeps a javascript: URL out whatever the data. */
function isSafeHref(href: string): boolean {
  return href.startsWith('#') || href.startsWith('./') || href.startsWith('/');
}

export function append(parent: Node, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replace every child of el. */
export function replace(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

/** A definition list of label/value pairs; rows whose value is empty are left out. */
export function dl(rows: Array<[string, Child | Child[]]>, cls = 'kv'): HTMLDListElement {
  const out = h('dl', { class: cls });
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    append(out, [h('dt', null, k), h('dd', null, v)]);
  }
  return out;
}

export function errorBox(message: string): HTMLElement {
  return h('div', { class: 'error', role: 'alert', 'data-testid': 'error' }, message);
}
