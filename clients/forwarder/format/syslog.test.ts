import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertItem, makeEvent } from '../../../test/forwarder-fakes.js';
import { escapeSdValue, facilityCode, formatRfc5424, headerField, octetCounted, recordToRfc5424, sdName, timestamp } from './syslog.js';

describe('RFC 5424 pieces', () => {
  it('escapes ", \\ and ] in PARAM-VALUE and nothing else', () => {
    const table: Array<[string, string]> = [
      ['plain', 'plain'],
      ['a"b', 'a\\"b'],
      ['a\\b', 'a\\\\b'],
      ['a]b', 'a\\]b'],
      ['[x]=y', '[x\\]=y'],
      ['ünï', 'ünï'],
    ];
    for (const [input, want] of table) assert.equal(escapeSdValue(input), want, input);
  });

  it('keeps header fields printable ASCII, bounded, NILVALUE when empty', () => {
    const table: Array<[string | undefined, number, string]> = [
      [undefined, 48, '-'],
      ['', 48, '-'],
      ['vigil', 48, 'vigil'],
      ['my app', 48, 'my_app'],
      ['hé', 48, 'h_'],
      ['x'.repeat(60), 48, 'x'.repeat(48)],
    ];
    for (const [input, max, want] of table) assert.equal(headerField(input, max), want, String(input));
    assert.equal(sdName('a=b c]"d'), 'a_b_c__d');
  });

  it('cuts the time fraction to 6 digits and rejects what is not RFC 3339', () => {
    const table: Array<[string, string]> = [
      ['2026-11-28T12:00:00.123456789Z', '2026-11-28T12:00:00.123456Z'],
      ['2026-11-28T12:00:00Z', '2026-11-28T12:00:00Z'],
      ['2026-11-28t12:00:00.5+01:00', '2026-11-28T12:00:00.5+01:00'],
      ['yesterday', '-'],
    ];
    for (const [input, want] of table) assert.equal(timestamp(input), want, input);
  });

  it('knows facility names and numbers', () => {
    assert.equal(facilityCode('local0'), 16);
    assert.equal(facilityCode('AUTH'), 4);
    assert.equal(facilityCode('23'), 23);
    assert.equal(facilityCode(24), undefined);
    assert.equal(facilityCode('nope'), undefined);
  });

  it('lays out a message: PRI, version, header, structured data, MSG (BOM only for non-ASCII)', () => {
    const base = { facility: 16, severity: 4, time: '2026-11-28T12:00:00Z', hostname: 'h1', appName: 'vigil' };
    assert.equal(formatRfc5424(base), '<132>1 2026-11-28T12:00:00Z h1 vigil - - -');
    assert.equal(formatRfc5424({ ...base, msgId: 'alert', msg: 'hi' }), '<132>1 2026-11-28T12:00:00Z h1 vigil - alert - hi');
    assert.equal(
      formatRfc5424({
        ...base,
        sd: [
          {
            id: 'x@1',
            params: [
              ['a', '1'],
              ['b', 'q"]'],
            ],
          },
          { id: 'y@1', params: [] },
        ],
        msg: 'ü',
      }),
      '<132>1 2026-11-28T12:00:00Z h1 vigil - - [x@1 a="1" b="q\\"\\]"][y@1] \uFEFFü',
    );
  });

  it('frames by octet counting: the count is bytes, not characters', () => {
    assert.equal(octetCounted('abc').toString(), '3 abc');
    assert.equal(octetCounted('é\n').toString(), '3 é\n');
    assert.equal(octetCounted('').toString(), '0 ');
  });
});

describe('records as RFC 5424', () => {
  const o = { facility: 16, hostname: 'node-1', appName: 'vigil', sdId: 'vigil@32473' };

  it('an alert: severity in PRI, MSGID alert, key fields as structured data, message as MSG', () => {
    const line = recordToRfc5424(alertItem(7, { rule: 'r"x]', severity: 'SEVERITY_CRITICAL' }), o);
    assert.equal(
      line,
      '<130>1 2026-11-28T12:00:00.123456Z node-1 vigil - alert [vigil@32473 seq="7" id="01J00000007" rule="r\\"x\\]" ' +
        'severity="critical" state="open" count="1" container_id="c0ffee123456" container_name="web-1" image="busybox" ' +
        'pid="42" exe="/bin/cat" tags="T1003"] cat read /etc/shadow in web-1 (#7)',
    );
  });

  it('an event: informational, PROCID = pid, MSGID event, the event as JSON in MSG', () => {
    const line = recordToRfc5424({ type: 'event', event: makeEvent() }, o);
    assert.match(
      line,
      /^<134>1 2026-11-28T12:00:00\.123456Z node-1 vigil 42 event \[vigil@32473 kind="exec" container_id="c0ffee123456" container_name="web-1"\] \{/,
    );
    assert.equal(JSON.parse(line.slice(line.indexOf('] {') + 2)).kind, 'exec');
  });
});
