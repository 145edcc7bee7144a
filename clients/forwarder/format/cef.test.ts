import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cefSeverity, SEVERITIES } from '../core/record.js';
import { alertItem, makeEvent } from '../../../test/forwarder-fakes.js';
import { escapeExtension, escapeHeader, formatCef, recordToCef } from './cef.js';

describe('CEF', () => {
  it('escapes | and \\ in header fields, = and \\ and line breaks in extension values', () => {
    const header: Array<[string, string]> = [
      ['a|b', 'a\\|b'],
      ['a\\b', 'a\\\\b'],
      ['a=b', 'a=b'],
      ['two\nlines', 'two lines'],
    ];
    for (const [input, want] of header) assert.equal(escapeHeader(input), want, input);
    const ext: Array<[string, string]> = [
      ['a=b', 'a\\=b'],
      ['a\\b', 'a\\\\b'],
      ['a|b', 'a|b'],
      ['x\ny', 'x\\ny'],
      ['x\r\ny', 'x\\ny'],
      ['x\ry', 'x\\ry'],
      ['sp ace', 'sp ace'],
    ];
    for (const [input, want] of ext) assert.equal(escapeExtension(input), want, input);
  });

  it('maps the eight levels onto 0..10, most severe highest', () => {
    assert.deepEqual(SEVERITIES.map(cefSeverity), [10, 9, 8, 7, 5, 3, 1, 0]);
  });

  it('lays out header and extension, leaving out empty values', () => {
    assert.equal(
      formatCef({ vendor: 'vigil', product: 'vigil', version: '1', signatureId: 's|1', name: 'n\\', severity: 5 }, [
        ['a', 'x=y'],
        ['b', ''],
        ['c', undefined],
        ['d', 3],
      ]),
      'CEF:0|vigil|vigil|1|s\\|1|n\\\\|5|a=x\\=y d=3',
    );
  });

  it('an alert: Signature ID = rule, Name = message, severity mapped, container and process in the extension', () => {
    const line = recordToCef(alertItem(3, { rule: 'escape|mount', severity: 'SEVERITY_EMERGENCY', message: 'a=b' }), { version: '0.1.0', hostname: 'h' });
    assert.equal(
      line,
      'CEF:0|vigil|vigil|0.1.0|escape\\|mount|a=b|10|rt=1795867200123 dvchost=h cs1Label=containerId ' +
        'cs1=c0ffee123456 cs2Label=containerName cs2=web-1 cs3Label=image cs3=busybox externalId=01J00000003 cn1Label=seq cn1=3 ' +
        'cnt=1 cat=emergency outcome=open spid=42 sproc=/bin/cat suid=0 cs4Label=tags cs4=T1003 msg=a\\=b',
    );
  });

  it('an event: Signature ID event:<kind>, severity 1', () => {
    const line = recordToCef({ type: 'event', event: makeEvent({ kind: 'EVENT_KIND_FILE' }) }, { version: '1', hostname: 'h' });
    assert.match(line, /^CEF:0\|vigil\|vigil\|1\|event:file\|file \/bin\/cat \(pid 42\)\|1\|rt=\d+ /);
  });
});
