// Syslog sink: RFC 5424 (or CEF inside RFC 5424) over UDP, TCP or TLS. Stream transports frame each
// message by octet counting (RFC 6587), so messages may hold line breaks.
//
// What "acknowledged" means here: syslog has no application-level ack. Over TCP/TLS a batch counts as
// delivered once the kernel took all of it; a receiver that dies right after can lose what was in its
// socket buffer (RELP exists for that; rsyslog supports it, Node has no client). Over UDP a batch counts
// as delivered once it was sent: loss on the wire is not seen.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SinkError } from '../core/errors.js';
import { recordToCef } from '../format/cef.js';
import { formatRfc5424, octetCounted, recordToRfc5424, type SyslogOptions } from '../format/syslog.js';
import { severityName, syslogSeverity, recordTime, type ForwardRecord } from '../core/record.js';
import type { Sink } from '../core/sink.js';

export interface SyslogSinkOptions extends SyslogOptions {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  format: 'rfc5424' | 'cef';
  /** vigil's version (CEF Device Version). */
  version: string;
  /** TLS: CA bundle (PEM) to verify the server; default the system's. Optional client cert and key. */
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** TLS: server name to verify (default `host`). */
  servername?: string | undefined;
  /** Give up on a connect or a write after this long (ms). */
  timeoutMs?: number;
}

/** The largest UDP payload over IPv4. */
const UDP_MAX = 65_507;

export class SyslogSink implements Sink {
  readonly type = 'syslog';
  private readonly o: SyslogSinkOptions;
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private udp: UdpSocket | undefined;

  constructor(o: SyslogSinkOptions) {
    this.o = o;
  }

  /** One record as the configured format: an RFC 5424 message (for CEF, with the CEF line as MSG). */
  format(r: ForwardRecord): string {
    if (this.o.format === 'rfc5424') return recordToRfc5424(r, this.o);
    const severity = r.type === 'alert' ? syslogSeverity(severityName(r.alert.severity)) : syslogSeverity('informational');
    return formatRfc5424({
      facility: this.o.facility,
      severity,
      time: recordTime(r),
      hostname: this.o.hostname,
      appName: this.o.appName,
      msgId: r.type === 'alert' ? 'alert' : 'event',
      msg: recordToCef(r, { version: this.o.version, hostname: this.o.hostname }),
    });
  }

  async send(batch: readonly ForwardRecord[], signal: AbortSignal): Promise<void> {
    if (this.o.transport === 'udp') return this.sendUdp(batch);
    const data = Buffer.concat(batch.map((r) => octetCounted(this.format(r))));
    const socket = await this.connect();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(new SinkError('retry', `syslog ${this.o.transport}://${this.o.host}:${this.o.port}: ${err.message}`, { cause: err }));
      };
      const onClose = (): void => fail(new Error('connection closed'));
      const onAbort = (): void => fail(new Error('aborted'));
      const timer = setTimeout(() => fail(new Error('write timed out')), this.o.timeoutMs ?? 30_000);
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
      };
      socket.once('error', fail);
      socket.once('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.write(data, (err) => {
        if (err) return fail(err);
        cleanup();
        resolve();
      });
    });
  }

  private async sendUdp(batch: readonly ForwardRecord[]): Promise<void> {
    this.udp ??= createSocket(this.o.host.includes(':') ? 'udp6' : 'udp4');
    const udp = this.udp;
    await Promise.all(
      batch.map((r) => {
        let msg = Buffer.from(this.format(r), 'utf8');
        if (msg.length > UDP_MAX) msg = msg.subarray(0, UDP_MAX);
        return new Promise<void>((resolve, reject) => {
          udp.send(msg, this.o.port, this.o.host, (err) =>
            err ? reject(new SinkError('retry', `syslog udp://${this.o.host}:${this.o.port}: ${err.message}`, { cause: err })) : resolve(),
          );
        });
      }),
    );
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed && this.socket.writable) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, port } = this.o;
      const socket =
        this.o.transport === 'tls'
          ? tlsConnect({ host, port, ca: this.o.ca, cert: this.o.cert, key: this.o.key, servername: this.o.servername ?? (isIP(host) ? undefined : host) })
          : netConnect({ host, port });
      const ready = this.o.transport === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), this.o.timeoutMs ?? 10_000);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setKeepAlive(true, 30_000);
        // A receiver that closes or fails between batches: forget the socket; the next send reconnects.
        socket.on('error', () => socket.destroy());
        socket.on('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        // Receivers send nothing back; drain anything they do so the socket does not stall.
        socket.resume();
        this.socket = socket;
        resolve(socket);
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new SinkError('retry', `syslog ${this.o.transport}://${host}:${port}: ${err.message}`, { cause: err }));
      };
      socket.once('error', onError);
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s && !s.destroyed) await new Promise<void>((r) => s.end(r));
    this.udp?.close();
    this.udp = undefined;
  }
}
