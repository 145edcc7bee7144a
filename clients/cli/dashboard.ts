// `vigil dashboard`: the dashboard's URL with the HTTP token in the fragment. A browser never sends
// the fragment, so the token stays out of request lines, proxies and access logs; the page moves it
// into sessionStorage (clients/web/src/auth.ts) and sends it as a bearer header. Before printing, the
// address is checked: /healthz must answer (else the URL would open an error page), and /api/v1/status
// must take the token (a token file of another daemon, or a daemon that wants a token when none was
// given, would open a page that only asks for a token).
import { splitHostPort, type Connection, type DashboardCommand } from './args.js';
import { isLoopback } from '../../common/listen.js';
import { HINT_START } from './client.js';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';

/** The URL to open: http://HOST:PORT/ and, with a token, #token=<token> (as auth.ts reads it). */
export function dashboardUrl(http: string, token: string | undefined): string {
  return `http://${http}/${token ? `#token=${encodeURIComponent(token)}` : ''}`;
}

/** The token in `file` (vigild trims it too), or a CliError that says in one line why it cannot be had. */
export function readHttpToken(file: string, io: Pick<CliIo, 'readText'>): string {
  let text: string;
  try {
    text = io.readText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (run as root, or pass --token-file)'
        : code === 'ENOENT'
          ? "no such file (pass the daemon's http.token_file with --token-file, or --token-file none if it runs with http.auth: none)"
          : code === 'EISDIR'
            ? 'it is a directory (--token-file names the token file itself)'
            : (code ?? (err as Error).message);
    throw new CliError('VIGIL_IO', `cannot read ${file}: ${why}`, { cause: err });
  }
  const token = text.trim();
  if (!token) throw new CliError('VIGIL_IO', `${file} is empty (vigild writes its token there at first start)`);
  if (/\s/.test(token)) throw new CliError('VIGIL_IO', `${file} does not hold a token (more than one word)`);
  return token;
}

/** Why a request got no answer, in a few words. */
function failure(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'no answer in time';
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
}

async function get(url: string, token: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** One line of /healthz's {"ok":false,"detail":{...}} for the warning. */
function healthDetail(body: string): string {
  try {
    const h = JSON.parse(body) as { detail?: unknown };
    return JSON.stringify(h.detail ?? h);
  } catch {
    return body.trim().split('\n')[0] ?? '';
  }
}

export async function dashboard(cmd: DashboardCommand, conn: Pick<Connection, 'timeoutMs'>, io: CliIo): Promise<number> {
  const token = cmd.tokenFile === null ? undefined : readHttpToken(cmd.tokenFile, io);
  const base = `http://${cmd.http}`;
  // /healthz is open on a loopback listener and wants the token elsewhere (daemon/api/http.ts).
  const hostToken = isLoopback(splitHostPort(cmd.http)?.host ?? '') ? undefined : token;
  let health: { status: number; body: string };
  try {
    health = await get(`${base}/healthz`, hostToken, conn.timeoutMs);
  } catch (err) {
    throw new CliError(
      'VIGIL_UNREACHABLE',
      `vigild does not answer at ${base}/healthz (${failure(err)}): ${HINT_START}, or pass --http HOST:PORT if its http.listen is elsewhere`,
      { cause: err },
    );
  }
  if (health.status === 401)
    throw new CliError('VIGIL_AUTH', `vigild at ${base} refused ${token ? `the token in ${cmd.tokenFile}` : 'to answer without a token (pass --token-file)'}`);
  if (health.status === 503) io.stderr.write(`vigil: warning: vigild at ${base} answers but reports itself unhealthy: ${healthDetail(health.body)}\n`);
  else if (health.status !== 200)
    throw new CliError('VIGIL_UNREACHABLE', `${base}/healthz answered HTTP ${health.status}: is vigild's HTTP listener there? (pass --http HOST:PORT)`);

  let api: { status: number } | undefined;
  try {
    api = await get(`${base}/api/v1/status`, token, conn.timeoutMs);
  } catch {
    // /healthz answered a moment ago; what the page meets is the daemon's to report, not this check's.
  }
  if (api?.status === 401) {
    throw new CliError(
      'VIGIL_AUTH',
      token
        ? `vigild at ${base} refuses the token in ${cmd.tokenFile} (is its http.token_file another file? pass that with --token-file)`
        : `vigild at ${base} wants a token (its http.auth is not none): pass --token-file`,
    );
  }
  io.stdout.write(dashboardUrl(cmd.http, token) + '\n');
  return 0;
}
