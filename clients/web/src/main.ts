// The dashboard: hash routes (the daemon serves only index.html and /assets/*), one page at a time.
import './style.css';
import { setUnauthorizedHandler } from './api.js';
import { captureToken, setToken, token } from './auth.js';
import { h, replace } from './dom.js';
import { parseHash, type Page } from './page.js';
import { alertPage } from './pages/alert.js';
import { alertsPage } from './pages/alerts.js';
import { containerPage } from './pages/container.js';
import { overviewPage } from './pages/overview.js';
import { targetsPage } from './pages/targets.js';

const app = document.getElementById('app')!;
let current: Page | undefined;

function pageFor(hash: string): { page: Page; nav: string } {
  const { path, query } = parseHash(hash);
  const [a, b] = path;
  if (a === undefined) return { page: overviewPage(), nav: 'overview' };
  if (a === 'containers' && b) return { page: containerPage(b, query), nav: 'overview' };
  if (a === 'alerts' && b) return { page: alertPage(b), nav: 'alerts' };
  if (a === 'alerts') return { page: alertsPage(query), nav: 'alerts' };
  if (a === 'targets') return { page: targetsPage(), nav: 'targets' };
  const el = h(
    'div',
    { class: 'page' },
    h('h2', null, 'Not found'),
    h('p', null, 'No page at ', h('code', null, hash), '. ', h('a', { href: '#/' }, 'Containers')),
  );
  return { page: { el, stop: () => undefined }, nav: '' };
}

function route(): void {
  current?.stop();
  const { page, nav } = pageFor(location.hash || '#/');
  current = page;
  replace(app, page.el);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a[data-nav]')) a.classList.toggle('on', a.dataset['nav'] === nav);
}

let prompting = false;
/** Asked on a 401: the token from `vigil dashboard` or the token file; the page reloads its data with it. */
function promptToken(): void {
  if (prompting) return;
  prompting = true;
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    'aria-label': 'API token',
    'data-testid': 'token-input',
    placeholder: 'token',
  });
  const dialog = h(
    'div',
    { class: 'overlay', 'data-testid': 'token-prompt', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'token required' },
    h(
      'form',
      {
        class: 'prompt',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          if (!input.value.trim()) return;
          setToken(input.value);
          dialog.remove();
          prompting = false;
          route();
        },
      },
      h('h2', null, 'Token required'),
      h(
        'p',
        null,
        token() ? 'The daemon refused the token. ' : '',
        'Open the link that ',
        h('code', null, 'vigil dashboard'),
        " prints, or paste the token from the daemon's token file (http.token_file).",
      ),
      input,
      h('button', { type: 'submit' }, 'Use token'),
    ),
  );
  document.body.append(dialog);
  input.focus();
}

captureToken();
setUnauthorizedHandler(promptToken);
window.addEventListener('hashchange', () => {
  // A #token=... pasted into an open page is taken too.
  if (/(^#|[&?])token=/.test(location.hash)) captureToken();
  route();
});
route();
