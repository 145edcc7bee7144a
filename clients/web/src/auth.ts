// The bearer token (docs: http-api.md, Auth): read once from #token=..., kept in sessionStorage (gone
// when the tab closes), removed from the URL so it is not bookmarked, shared or left in the history.

const KEY = 'vigil.token';

/** Moves a #token=... (alone, or after the route: #/alerts&token=...) into sessionStorage. */
export function captureToken(): void {
  const hash = location.hash;
  const m = /(^#|[&?])token=([^&]*)/.exec(hash);
  if (!m) return;
  const token = decodeURIComponent(m[2] ?? '');
  if (token) sessionStorage.setItem(KEY, token);
  let rest = hash.slice(0, m.index) + hash.slice(m.index + m[0].length);
  if (rest === '' || rest === '#') rest = '#/';
  history.replaceState(null, '', `${location.pathname}${location.search}${rest}`);
}

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(t: string): void {
  sessionStorage.setItem(KEY, t.trim());
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}
