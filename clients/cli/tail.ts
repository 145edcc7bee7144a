// `vigil tail`: one Events.Subscribe stream printed as it arrives. A gap (this subscriber lost
// messages) is a warning line on stderr and the stream goes on; SIGINT ends it cleanly (exit 0); a
// stream the daemon breaks ends with one line and the --since to resume from.
import { hostname } from 'node:os';
import { falcoJson } from '../forwarder/format/falco.js';
import type { TailCommand } from './args.js';
import { errorFromRpc, isCancelled, type Api } from './client.js';
import { formatAlertLine, formatEventLine, formatJson } from './format.js';
import type { CliIo } from './io.js';
import type { Gap, SubscribeRequest, SubscribeResponse } from './proto.js';
import { useColour } from './terminal.js';

export function gapLine(g: Gap): string {
  const why =
    g.reason === 'queue_full' || g.reason === ''
      ? 'subscriber too slow'
      : g.reason === 'sensor_queue_full'
        ? "the sensor's queue for this stream was full"
        : g.reason;
  const alerts = Number(g.lost_alerts) > 0 ? ` (${g.lost_alerts} of them alerts: resume with --since ${g.last_seq} to get them back)` : '';
  return `vigil: lost ${g.lost} events: ${why}${alerts}\n`;
}

export function subscribeRequest(cmd: TailCommand): SubscribeRequest {
  return { allow: cmd.allow, deny: cmd.deny, include_events: cmd.events, include_alerts: true, since_seq: cmd.since ?? '0', client_name: 'vigil-tail' };
}

/** Formats one stream message for stdout; undefined for what is not printed there. */
export function formatMessage(m: SubscribeResponse, cmd: TailCommand, colour: boolean): string | undefined {
  // Falco emits an alert once; later versions of a vigil alert (acks, folded repeats) are not new Falco alerts.
  if (cmd.output === 'falco') return m.message === 'alert' && m.alert && m.alert_change === 'ALERT_CHANGE_OPENED' ? falcoJson(m.alert, hostname()) : undefined;
  if (m.message === 'alert' && m.alert)
    return cmd.output === 'json' ? formatJson({ alert: m.alert, alert_change: m.alert_change }) : formatAlertLine(m.alert, cmd.output === 'wide', { colour });
  if (m.message === 'event' && m.event)
    return cmd.output === 'json' ? formatJson({ event: m.event }) : formatEventLine(m.event, cmd.output === 'wide', { colour });
  return undefined;
}

export function runTail(cmd: TailCommand, api: Api, io: CliIo): Promise<number> {
  const colour = cmd.output !== 'json' && cmd.output !== 'falco' && useColour(io.stdout, io.env, io.colour);
  const stream = api.events.Subscribe(subscribeRequest(cmd), api.metadata());
  let lastSeq = cmd.since;
  return new Promise<number>((resolve) => {
    let done = false;
    let stopping = false;
    const finish = (code: number, line?: string): void => {
      if (done) return;
      done = true;
      off();
      if (line) io.stderr.write(line);
      resolve(code);
    };
    const off = io.onSignal(() => {
      stopping = true;
      stream.cancel();
      // A daemon that does not answer the cancel must not keep us: the user asked to stop.
      setTimeout(() => finish(0), 500).unref();
    });
    const resume = (): string => (lastSeq !== undefined && lastSeq !== '0' ? ` (resume with --since ${lastSeq})` : '');
    stream.on('data', (m: SubscribeResponse) => {
      if (done) return;
      if (m.message === 'gap' && m.gap) {
        io.stderr.write(gapLine(m.gap));
        return;
      }
      if (m.message === 'alert' && m.alert) lastSeq = String(m.alert.seq);
      const text = formatMessage(m, cmd, colour);
      if (text !== undefined) io.stdout.write(text + '\n');
    });
    stream.on('error', (err: unknown) => {
      if (stopping || isCancelled(err)) finish(0);
      else finish(1, `vigil: ${errorFromRpc(err, api.addr).message}${resume()}\n`);
    });
    stream.on('end', () => {
      if (stopping) finish(0);
      else setImmediate(() => finish(1, `vigil: vigild ended the stream${resume()}\n`));
    });
  });
}
