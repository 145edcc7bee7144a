// #/alerts: recent alerts, then live ones from the stream, under one set of filters (minimum severity,
// container name glob, rule) that map onto the SubscribeRequest's allow filter, so the feed shows
// what `vigil tail --allow ...` and the forwarder would get. Gaps are shown where they happened.
import type { Alert__Output } from '../../../../proto/gen/vigil/v1/Alert.js';
import type { Filter } from '../../../../proto/gen/vigil/v1/Filter.js';
import type { SubscribeRequest } from '../../../../proto/gen/vigil/v1/SubscribeRequest.js';
import type { SubscribeResponse__Output } from '../../../../proto/gen/vigil/v1/SubscribeResponse.js';
import { api } from '../api.js';
import { errorBox, h, replace } from '../dom.js';
import { clock, duration } from '../format.js';
import { nameMatcher } from '../names.js';
import { hashOf, type Page } from '../page.js';
import { SEVERITIES, severityName, severityRank, type Severity } from '../severity.js';
import { subscribe, type StreamState } from '../stream.js';
import { alertItem } from '../widgets.js';

/** Alerts kept on the page; older ones drop off the bottom. */
const KEEP = 500;

export interface FeedFilter {
  minSeverity: Severity | '';
  name: string;
  rule: string;
}

function filterFrom(q: URLSearchParams): FeedFilter {
  const min = q.get('min') ?? '';
  return { minSeverity: (SEVERITIES as string[]).includes(min) ? (min as Severity) : '', name: q.get('name') ?? '', rule: q.get('rule') ?? '' };
}

/** The filter as the stream's allow filter (the gRPC API's semantics, applied by the daemon). */
export function allowFilter(f: FeedFilter): Filter {
  return {
    ...(f.minSeverity ? { min_severity: f.minSeverity } : {}),
    ...(f.name ? { container_names: [f.name] } : {}),
    ...(f.rule ? { rules: [f.rule] } : {}),
  };
}

type Entry = { kind: 'alert'; alert: Alert__Output; fresh: boolean } | { kind: 'gap'; text: string; at: number };

export function alertsPage(query: URLSearchParams): Page {
  const filter = filterFrom(query);
  const err = h('div');
  const conn = h('span', { class: 'conn-state', 'data-testid': 'stream-state', 'data-state': 'connecting' }, 'connecting');
  const lostEl = h('span', { class: 'lost', 'data-testid': 'lost', 'data-lost': '0' });
  const list = h('ul', { class: 'alert-list feed', 'data-testid': 'alert-feed' });

  const minSel = h(
    'select',
    { name: 'min', 'aria-label': 'minimum severity' },
    h('option', { value: '' }, 'any severity'),
    SEVERITIES.map((s) => h('option', { value: s }, `≥ ${severityName(s)}`)),
  );
  minSel.value = filter.minSeverity;
  const nameIn = h('input', {
    name: 'name',
    type: 'text',
    placeholder: 'container name glob, e.g. web-*',
    value: filter.name,
    'aria-label': 'container name glob',
    spellcheck: 'false',
  });
  const ruleSel = h('select', { name: 'rule', 'aria-label': 'rule' }, h('option', { value: '' }, 'any rule'));
  if (filter.rule) ruleSel.append(h('option', { value: filter.rule }, filter.rule));
  ruleSel.value = filter.rule;
  const form = h(
    'form',
    {
      class: 'filters',
      'data-testid': 'feed-filters',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const q = new URLSearchParams();
        if (minSel.value) q.set('min', minSel.value);
        if (nameIn.value.trim()) q.set('name', nameIn.value.trim());
        if (ruleSel.value) q.set('rule', ruleSel.value);
        // A new hash re-renders the page with the new subscription.
        location.hash = hashOf(['alerts'], q);
      },
    },
    minSel,
    nameIn,
    ruleSel,
    h('button', { type: 'submit' }, 'Apply'),
  );
  const el = h(
    'div',
    { class: 'page', 'data-testid': 'alerts-page' },
    h('div', { class: 'page-head' }, h('h2', null, 'Alerts'), form, conn, lostEl),
    err,
    list,
  );

  let nameOk: ((name: string) => boolean) | undefined;
  try {
    nameOk = filter.name ? nameMatcher(filter.name) : undefined;
  } catch (e) {
    replace(err, errorBox((e as Error).message));
  }
  const matches = (a: Alert__Output): boolean =>
    (!filter.minSeverity || severityRank(a.severity) <= severityRank(filter.minSeverity)) &&
    (!filter.rule || a.rule === filter.rule) &&
    (!nameOk || nameOk(a.container?.name ?? ''));

  const entries: Entry[] = [];
  let lost = 0;
  const render = (): void => {
    replace(
      list,
      entries.length === 0
        ? h('li', { class: 'empty' }, 'no alerts yet: new ones appear here as they happen')
        : entries.map((e) =>
            e.kind === 'alert' ? alertItem(e.alert, { fresh: e.fresh }) : h('li', { class: 'gap', 'data-testid': 'gap' }, `${clock(e.at)} ${e.text}`),
          ),
    );
    lostEl.textContent = lost > 0 ? `${lost} lost` : '';
    lostEl.dataset['lost'] = String(lost);
  };
  /** A newer version of an alert replaces the older one in place; a new alert goes on top. */
  const upsert = (a: Alert__Output, fresh: boolean): void => {
    const i = entries.findIndex((e) => e.kind === 'alert' && e.alert.id === a.id);
    if (i >= 0) {
      const old = entries[i] as Extract<Entry, { kind: 'alert' }>;
      if (BigInt(old.alert.seq || '0') >= BigInt(a.seq || '0')) return;
      entries[i] = { kind: 'alert', alert: a, fresh };
    } else {
      entries.unshift({ kind: 'alert', alert: a, fresh });
      if (entries.length > KEEP) entries.length = KEEP;
    }
  };

  const onState = (s: StreamState): void => {
    const text =
      s.kind === 'connecting'
        ? s.attempt > 1
          ? `reconnecting (try ${s.attempt})`
          : 'connecting'
        : s.kind === 'open'
          ? 'live'
          : s.kind === 'retrying'
            ? `${s.reason}; retry in ${duration(s.inMs)}`
            : s.reason === 'stopped'
              ? 'stopped'
              : `stopped: ${s.reason}`;
    conn.textContent = text;
    conn.dataset['state'] = s.kind;
    if (s.kind === 'stopped' && s.reason !== 'stopped') replace(err, errorBox(s.reason));
  };
  const onMessage = (m: SubscribeResponse__Output): void => {
    if (m.alert) {
      if (!matches(m.alert)) return;
      upsert(m.alert, true);
      render();
    } else if (m.gap) {
      const n = Number(m.gap.lost);
      lost += n;
      entries.unshift({
        kind: 'gap',
        at: Date.now(),
        text: `${n} lost (${m.gap.reason}${Number(m.gap.lost_alerts) > 0 ? `; ${m.gap.lost_alerts} alerts, fetched again` : ''})`,
      });
      render();
    }
  };

  let stopStream: () => void = () => undefined;
  let stopped = false;
  const abort = new AbortController();
  const start = async (): Promise<void> => {
    let resumeAfter = '';
    try {
      // The store's last seq before the list: an alert stored in between is in both, and upsert
      // keeps one copy; none falls between the list and the stream.
      const status = await api.status(abort.signal).catch(() => null);
      const [recent, rules] = await Promise.all([
        api.alerts(
          { limit: 200, ...(filter.rule ? { rule: filter.rule } : {}), ...(filter.minSeverity ? { min_severity: filter.minSeverity } : {}) },
          abort.signal,
        ),
        api.rules(abort.signal).catch(() => null),
      ]);
      if (stopped) return;
      for (const a of [...recent.alerts].reverse()) if (matches(a)) upsert(a, false);
      // Resume the stream right after what the list returned (newest first, so its highest seq).
      const maxSeq = recent.alerts.reduce((m, a) => (BigInt(a.seq || '0') > m ? BigInt(a.seq) : m), 0n);
      const statusSeq = status?.alerts?.last_seq ? BigInt(status.alerts.last_seq) : 0n;
      resumeAfter = String(maxSeq > 0n ? maxSeq : statusSeq);
      if (rules) {
        const names = [...new Set(rules.rules.map((r) => r.name))].sort();
        replace(
          ruleSel,
          h('option', { value: '' }, 'any rule'),
          names.map((n) => h('option', { value: n }, n)),
        );
        if (filter.rule && !names.includes(filter.rule)) ruleSel.append(h('option', { value: filter.rule }, filter.rule));
        ruleSel.value = filter.rule;
      }
      render();
    } catch (e) {
      if ((e as Error).name === 'AbortError') return;
      replace(err, errorBox((e as Error).message));
    }
    if (stopped) return;
    const req: SubscribeRequest = { include_alerts: true, include_events: false, client_name: 'dashboard' };
    const allow = allowFilter(filter);
    if (Object.keys(allow).length > 0) req.allow = [allow];
    stopStream = subscribe(req, { message: onMessage, state: onState }, resumeAfter === '0' ? '' : resumeAfter);
  };
  void start();
  return {
    el,
    stop: () => {
      stopped = true;
      abort.abort();
      stopStream();
    },
  };
}
