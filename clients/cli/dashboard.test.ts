// `vigil dashboard` through main() against a real HTTP server on loopback that answers as vigild's
// listener does (/healthz, /api/v1/status behind the bearer token): the URL with the token in the
// fragment, the token never in a request line, a daemon that is not there or is something else, an
// unhealthy daemon, a refused token, and token files that cannot be used (real files).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dashboardUrl, readHttpToken } from './dashboard.js';
import type { CliIo } from './io.js';
import { main } from './main.js';
import { CapturedOutput } from '../../test/cli-output.js';

const TOKEN = 'Zm9vYmFyLXRva2VuLTAxMjM0NTY3ODlhYmNkZWY';
const dir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
const tokenFile = join(dir, 'http.token');
const seen: Array<{ url: string; auth: string | undefined }> = [];
let healthy = true;
let server: Server;
let http = '';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new CapturedOutput();
  const err = new CapturedOutput();
  const io: CliIo = { stdout: out, stderr: err, env: {}, readText: (p) => readFileSync(p, 'utf8'), now: () => Date.now(), onSignal: () => () => {} };
  const code = await main(['dashboard', ...args], io);
  return { code, out: out.text, err: err.text };
}

function reply(req: IncomingMessage): [number, string] {
  if (req.url === '/healthz') return healthy ? [200, '{"ok":true,"detail":{}}'] : [503, '{"ok":false,"detail":{"sensor":"no probes attached"}}'];
  if (req.url === '/api/v1/status') return req.headers.authorization === `Bearer ${TOKEN}` ? [200, '{"version":"0.1.0"}'] : [401, '{"code":"UNAUTHENTICATED"}'];
  return [404, 'not found\n'];
}

before(async () => {
  writeFileSync(tokenFile, TOKEN + '\n', { mode: 0o600 });
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    const [status, body] = reply(req);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http = `127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('the URL carries the token in the fragment only, encoded as the page decodes it', () => {
  assert.equal(dashboardUrl('127.0.0.1:9470', TOKEN), `http://127.0.0.1:9470/#token=${TOKEN}`);
  assert.equal(dashboardUrl('[::1]:9470', 'a+b/c='), 'http://[::1]:9470/#token=a%2Bb%2Fc%3D');
  assert.equal(dashboardUrl('localhost:8080', undefined), 'http://localhost:8080/');
});

test('prints the URL once the daemon answers and takes the token; the token is never in a request line', async () => {
  seen.length = 0;
  const r = await run(['--http', http, '--token-file', tokenFile]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `http://${http}/#token=${TOKEN}\n`);
  assert.equal(r.err, '');
  assert.deepEqual(
    seen.map((s) => s.url),
    ['/healthz', '/api/v1/status'],
  );
  // Loopback /healthz is open: the token goes only where it is needed, as a header.
  assert.equal(seen[0]!.auth, undefined);
  assert.equal(seen[1]!.auth, `Bearer ${TOKEN}`);
});

test('--token-file none: the URL without a token, unless the daemon wants one', async () => {
  const r = await run(['--http', http, '--token-file', 'none']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, `vigil: vigild at http://${http} wants a token (its http.auth is not none): pass --token-file\n`);
});

test('a token the daemon refuses: one line naming the file, exit 1', async () => {
  const other = join(dir, 'other.token');
  writeFileSync(other, 'not-the-daemons-token-0123456789\n');
  const r = await run(['--http', http, '--token-file', other]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(r.err, `vigil: vigild at http://${http} refuses the token in ${other} (is its http.token_file another file? pass that with --token-file)\n`);
});

test('an unhealthy daemon: a warning with its detail, and the URL', async () => {
  healthy = false;
  try {
    const r = await run(['--http', http, '--token-file', tokenFile]);
    assert.equal(r.code, 0);
    assert.equal(r.out, `http://${http}/#token=${TOKEN}\n`);
    assert.equal(r.err, `vigil: warning: vigild at http://${http} answers but reports itself unhealthy: {"sensor":"no probes attached"}\n`);
  } finally {
    healthy = true;
  }
});

test('nothing listening: one line saying so, exit 1, no URL', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  const r = await run(['--http', `127.0.0.1:${port}`, '--token-file', tokenFile]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.equal(
    r.err,
    `vigil: vigild does not answer at http://127.0.0.1:${port}/healthz (connection refused): is it running? start it with \`make run\` or \`systemctl start vigild\`, or pass --http HOST:PORT if its http.listen is elsewhere\n`,
  );
});

test('something else on the port (no /healthz): one line, exit 1', async () => {
  const other = createServer((_req, res) => res.writeHead(404).end('nope'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const port = (other.address() as { port: number }).port;
  try {
    const r = await run(['--http', `127.0.0.1:${port}`, '--token-file', tokenFile]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `vigil: http://127.0.0.1:${port}/healthz answered HTTP 404: is vigild's HTTP listener there? (pass --http HOST:PORT)\n`);
  } finally {
    other.closeAllConnections();
    await new Promise((r) => other.close(r));
  }
});

const read = { readText: (p: string) => readFileSync(p, 'utf8') };
const UNUSABLE: Array<[string, () => string, (file: string) => string]> = [
  // [what, makes the file, the message]
  [
    'missing',
    () => join(dir, 'missing.token'),
    (f) => `cannot read ${f}: no such file (pass the daemon's http.token_file with --token-file, or --token-file none if it runs with http.auth: none)`,
  ],
  [
    'a directory',
    () => {
      const d = join(dir, 'tokendir');
      mkdirSync(d, { recursive: true });
      return d;
    },
    (f) => `cannot read ${f}: it is a directory (--token-file names the token file itself)`,
  ],
  [
    'empty',
    () => {
      const f = join(dir, 'empty.token');
      writeFileSync(f, '\n');
      return f;
    },
    (f) => `${f} is empty (vigild writes its token there at first start)`,
  ],
  [
    'not one word',
    () => {
      const f = join(dir, 'words.token');
      writeFileSync(f, 'two words\n');
      return f;
    },
    (f) => `${f} does not hold a token (more than one word)`,
  ],
];

for (const [what, make, message] of UNUSABLE) {
  test(`token file ${what}: one line saying why, and no request is made`, async () => {
    const file = make();
    assert.throws(
      () => readHttpToken(file, read),
      (err: Error) => err.message === message(file),
    );
    seen.length = 0;
    const r = await run(['--http', http, '--token-file', file]);
    assert.equal(r.code, 1);
    assert.equal(r.err, `vigil: ${message(file)}\n`);
    assert.deepEqual(seen, []);
  });
}

test('the token file is trimmed as vigild trims it', () => {
  assert.equal(readHttpToken(tokenFile, read), TOKEN);
});
