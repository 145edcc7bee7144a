// Messages lost by Events.Subscribe streams, counted by subscriber name for Status and for
// vigil_subscriber_dropped_total{subscriber}. Counts outlive the streams (a counter never goes down
// when a subscriber leaves), and the label set is bounded: the first `cap` names get their own
// label, every later one is counted under "other", so a client that reconnects under ever new names
// (or from ever new ports) cannot grow the daemon's memory or Prometheus' series without end.

/** The label value of the subscribers beyond the cap. */
export const OTHER = 'other';

/** A client_name the API accepts: it becomes a Prometheus label value and a status line. */
export const CLIENT_NAME = /^[A-Za-z0-9._\-/:@]{1,64}$/;

/** The name a subscriber counts under: its client_name, else its peer without the port ("unix" for a unix socket). */
export function subscriberName(clientName: string, peer: string): string {
  if (clientName) return clientName;
  // grpc-js gives a unix socket's peer as "unknown" (it has no remote address)
  if (peer.startsWith('unix:') || peer === '' || peer === 'unknown' || peer === 'undefined') return 'unix';
  const m = /^\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return m ? m[1]! : peer;
}

export class SubscriberDrops {
  private readonly byName = new Map<string, number>();
  private sum = 0;

  constructor(private readonly cap = 32) {}

  /** The label `name` counts under: itself while there is room (or it has one), else "other". */
  label(name: string): string {
    if (this.byName.has(name)) return name;
    if (this.byName.size < this.cap) {
      this.byName.set(name, 0);
      return name;
    }
    return OTHER;
  }

  add(label: string, n: number): void {
    this.byName.set(label, (this.byName.get(label) ?? 0) + n);
    this.sum += n;
  }

  get total(): number {
    return this.sum;
  }

  /** Every label with its count, sorted by label. */
  entries(): Array<[string, number]> {
    return [...this.byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
