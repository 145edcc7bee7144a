// docs/fields.md is generated from the field table (`vigild rules fields > docs/fields.md`): a field
// added, renamed or redescribed in daemon/detect/fields.ts must be regenerated into the docs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fieldsMarkdown } from '../daemon/detect/fields.js';

const REPO = join(import.meta.dirname, '../../..');

test('docs/fields.md is the generated field catalogue (regenerate: bin/vigild rules fields > docs/fields.md)', () => {
  assert.equal(readFileSync(join(REPO, 'docs/fields.md'), 'utf8'), fieldsMarkdown());
});
