// Listen and dial addresses (host:port, [v6]:port) as the daemon's config, its API servers and the
// CLI read them. Whether a host is loopback decides what is allowed without TLS or a token, so the
// daemon and the CLI must answer it the same way.

/** localhost, 127.0.0.0/8 and ::1 (with or without brackets). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** "host:port" or "[v6]:port" -> host (brackets removed) and port; the text is checked already. */
export function splitListen(text: string): { host: string; port: number } {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(text.slice(i + 1)) };
}
