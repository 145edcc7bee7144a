// `vigil version` (and `vigil --version`): this vigil's version, build commit and API, then the
// daemon's from Status.Get. A version command is what one runs when something does not work, so a
// daemon that does not answer never fails it: its part becomes a note on stderr, exit status 0.
import type { Connection, VersionCommand } from './args.js';
import { call, connect, errorFromRpc, type Api } from './client.js';
import type { CliIo } from './io.js';
import { buildInfo, versionLine, type BuildInfo } from '../../common/node/version.js';

export interface VersionReport {
  client: BuildInfo;
  /** The daemon's, or null when it did not answer (then `daemon_error` says why). */
  daemon: (BuildInfo & { addr: string }) | null;
  daemon_error?: string;
}

export async function version(
  cmd: VersionCommand,
  connection: Connection,
  io: CliIo,
  connectTo: (c: Connection, env: NodeJS.ProcessEnv) => Api = connect,
): Promise<number> {
  const client = buildInfo();
  const report: VersionReport = { client, daemon: null };
  if (!cmd.clientOnly) {
    let api: Api | undefined;
    try {
      api = connectTo(connection, io.env);
      const s = await call(api, 'status', 'Get', {});
      // A daemon older than the commit field leaves it empty; it answered over vigil.v1, so that is its API.
      report.daemon = { version: s.version || 'unknown', commit: s.commit || 'unknown', api: client.api, addr: connection.addr };
    } catch (err) {
      report.daemon_error = errorFromRpc(err, connection.addr).message;
    } finally {
      api?.close();
    }
  }
  if (cmd.output === 'json') {
    io.stdout.write(JSON.stringify(cmd.clientOnly ? { client } : report) + '\n');
    return 0;
  }
  if (cmd.clientOnly) {
    io.stdout.write(`${versionLine('vigil', client)}\n`);
    return 0;
  }
  io.stdout.write(`Client: ${versionLine('vigil', client)}\n`);
  if (report.daemon) io.stdout.write(`Daemon: ${versionLine('vigild', report.daemon)} at ${report.daemon.addr}\n`);
  else io.stderr.write(`vigil: no daemon version: ${report.daemon_error ?? 'no answer'}\n`);
  return 0;
}
