// Containers.List and Containers.Get: the registry's containers joined with their latest samples and
// their open alerts, for an overview (the dashboard, `vigil ps`) without one call per container.
import type { ContainerSummary } from '../../proto/gen/vigil/v1/ContainerSummary.js';
import type { Severity as ApiSeverity } from '../../proto/gen/vigil/v1/Severity.js';
import type { ListContainersResponse } from '../../proto/gen/vigil/v1/ListContainersResponse.js';
import { SEVERITIES, type Severity } from '../core/severity.js';
import { toApiContainerInfo } from './convert.js';
import type { ContainerView, DaemonServices } from './services.js';

/** Open alerts read per overview; beyond it the counts are a floor (an alert storm is an alert itself). */
const MAX_OPEN_SCANNED = 10_000;

interface OpenCount {
  count: number;
  worst: Severity;
}

async function openAlertsByContainer(alerts: DaemonServices['alerts'], only?: string): Promise<Map<string, OpenCount>> {
  const out = new Map<string, OpenCount>();
  let after: string | undefined;
  let seen = 0;
  do {
    const page = await alerts.list({ state: 'open', ...(only ? { container: only } : {}) }, { limit: 1000, ...(after ? { after } : {}) });
    for (const a of page.alerts) {
      const id = a.container?.id ?? 'host';
      const c = out.get(id);
      if (!c) out.set(id, { count: 1, worst: a.severity });
      else {
        c.count++;
        if (SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(c.worst)) c.worst = a.severity;
      }
    }
    seen += page.alerts.length;
    after = page.next;
  } while (after && seen < MAX_OPEN_SCANNED);
  return out;
}

function summary(v: ContainerView, open: OpenCount | undefined): ContainerSummary {
  return {
    info: toApiContainerInfo(v.info),
    running: v.running,
    monitored: v.monitored,
    latest: v.latest,
    sampled_at_ms: v.sampledAt ?? 0,
    open_alerts: open?.count ?? 0,
    worst_open_severity: (open ? `SEVERITY_${open.worst.toUpperCase()}` : 'SEVERITY_UNSPECIFIED') as ApiSeverity,
  };
}

export async function listContainers(s: DaemonServices, includeStopped: boolean): Promise<ListContainersResponse> {
  const views = s.containers.list().filter((v) => includeStopped || v.running);
  const open = await openAlertsByContainer(s.alerts);
  views.sort((a, b) => Number(b.running) - Number(a.running) || a.info.name.localeCompare(b.info.name) || a.info.id.localeCompare(b.info.id));
  return { containers: views.map((v) => summary(v, open.get(v.info.id))), host: summary(s.containers.host(), open.get('host')) };
}

/** undefined: no such container. */
export async function getContainer(s: DaemonServices, id: string): Promise<ContainerSummary | undefined> {
  const v = id === 'host' ? s.containers.host() : s.containers.list().find((x) => x.info.id === id);
  if (!v) return undefined;
  const open = await openAlertsByContainer(s.alerts, id);
  return summary(v, open.get(id));
}
