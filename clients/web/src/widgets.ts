// Small pieces shared by the pages: badges, usage bars, alert rows.
import type { Alert__Output } from '../../../proto/gen/vigil/v1/Alert.js';
import type { Posture__Output } from '../../../proto/gen/vigil/v1/Posture.js';
import { h } from './dom.js';
import { clock, dateTime, shortId, toMs } from './format.js';
import { severityClass, severityName, stateName } from './severity.js';

export function badge(text: string, cls = '', title?: string): HTMLSpanElement {
  return h('span', { class: `badge ${cls}`.trim(), title }, text);
}

export function severityBadge(s: string): HTMLSpanElement {
  return h('span', { class: `badge sev ${severityClass(s)}`, 'data-severity': s }, severityName(s) || 'none');
}

export function stateBadge(s: string, testid?: string): HTMLSpanElement {
  const name = stateName(s);
  return h('span', { class: `badge state state-${name}`, 'data-testid': testid, 'data-state': s }, name);
}

/** Badges of what a container shares with the host or is allowed; empty when it is confined. */
export function postureBadges(p: Posture__Output | null | undefined): HTMLElement[] {
  if (!p) return [];
  const out: HTMLElement[] = [];
  if (p.privileged) out.push(badge('privileged', 'risk-high', 'all capabilities, devices and no seccomp'));
  const hosts: Array<[boolean, string]> = [
    [p.host_pid, 'pid'],
    [p.host_net, 'net'],
    [p.host_ipc, 'ipc'],
    [p.host_mnt, 'mnt'],
    [p.host_user, 'user'],
    [p.host_uts, 'uts'],
  ];
  for (const [on, ns] of hosts) if (on) out.push(badge(`host ${ns}`, 'risk-mid', `shares the host's ${ns} namespace`));
  for (const m of p.sensitive_mounts) out.push(badge(`mount ${m}`, 'risk-mid', 'a sensitive host path is mounted'));
  // The runtime's record and the kernel's view disagree: the badges above are the kernel's view.
  if (p.mismatches.length > 0) out.push(badge('posture mismatch', 'risk-high', p.mismatches.join('\n')));
  return out;
}

/** A bar of used/limit with the numbers beside it; without a limit only the value. */
export function usageBar(used: number | undefined, limit: number | undefined, fmt: (v: number) => string): HTMLElement {
  if (used === undefined) return h('span', { class: 'muted' }, '–');
  if (limit === undefined || !(limit > 0))
    return h('span', { class: 'usage' }, h('span', { class: 'num' }, fmt(used)), h('span', { class: 'muted' }, ' no limit'));
  const ratio = used / limit;
  const pct = Math.min(100, Math.max(0, ratio * 100));
  const level = ratio >= 0.9 ? 'high' : ratio >= 0.7 ? 'mid' : 'low';
  const fill = h('span', { class: `fill ${level}` });
  // Through the CSSOM, not a style attribute: the page's CSP allows no inline styles.
  fill.style.width = `${pct.toFixed(1)}%`;
  return h(
    'span',
    { class: 'usage', title: `${fmt(used)} of ${fmt(limit)} (${(ratio * 100).toFixed(0)}%)`, 'data-ratio': ratio.toFixed(3) },
    h('span', { class: 'bar' }, fill),
    h('span', { class: 'num' }, `${fmt(used)} / ${fmt(limit)}`),
  );
}

/** The executable of the offending process (first lineage entry), or its comm. */
export function processOf(a: Alert__Output): string {
  const p = a.lineage[0];
  if (!p) return '';
  return `${p.exe || p.comm}[${p.pid}]`;
}

/** One alert as a row of the feed and of the container page: links to the alert page. */
export function alertItem(a: Alert__Output, opts: { fresh?: boolean; change?: string } = {}): HTMLElement {
  const t = toMs(a.time);
  return h(
    'li',
    {
      class: `alert-item ${severityClass(a.severity)}${opts.fresh ? ' fresh' : ''}`,
      'data-testid': 'alert-item',
      'data-id': a.id,
      'data-seq': a.seq,
      'data-state': a.state,
      'data-rule': a.rule,
      'data-container': a.container?.id ?? '',
    },
    h(
      'a',
      { href: `#/alerts/${encodeURIComponent(a.id)}`, class: 'row-link' },
      h('time', { datetime: a.time, title: dateTime(t) }, clock(t)),
      severityBadge(a.severity),
      h('span', { class: 'rule' }, a.rule),
      h('span', { class: 'who' }, a.container ? (a.container.id === 'host' ? 'host' : `${a.container.name || shortId(a.container.id)}`) : ''),
      h('span', { class: 'proc mono' }, processOf(a)),
      Number(a.count) > 1 ? badge(`×${a.count}`, 'count', 'matches folded into this alert') : h('span'),
      stateBadge(a.state),
      h('span', { class: 'msg' }, a.message),
    ),
  );
}
