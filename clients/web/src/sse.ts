// Server-sent events read from a fetch() body: EventSource cannot send the Authorization header, so
// the stream is parsed here (WHATWG HTML, "Parsing an event stream"): lines end in \n, \r\n or \r;
// `event`, `id` and `data` fields; lines starting with ':' are comments (the server's pings); a blank
// line dispatches the message.

export interface SseMessage {
  /** "message" when the server sent no event field. */
  event: string;
  /** The last id seen on the stream (it persists across messages, as in EventSource). */
  id: string;
  data: string;
}

export class SseParser {
  private buf = '';
  private event = '';
  private data: string[] = [];
  private lastId = '';
  /** A trailing \r may be the first half of \r\n split across chunks. */
  private pendingCr = false;

  /** Feed decoded text; returns the messages completed by it. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.pendingCr) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.pendingCr = false;
    }
    this.buf += text;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      if (m[0] === '\r' && m.index === this.buf.length - 1) {
        this.pendingCr = true;
      }
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  get id(): string {
    return this.lastId;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const msg = { event: this.event || 'message', id: this.lastId, data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return msg;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }
}
