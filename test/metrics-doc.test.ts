// docs/metrics.md is generated from the families /metrics serves (`bin/vigild metrics-doc >
// docs/metrics.md`): a family added, renamed, relabelled or redescribed in daemon/api/families.ts
// (or a prom-client upgrade that changes the standard ones) must be regenerated into the docs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { metricsReference } from '../daemon/api/families.js';

const REPO = join(import.meta.dirname, '../../..');

test('docs/metrics.md is the generated metrics reference (regenerate: bin/vigild metrics-doc > docs/metrics.md)', async () => {
  assert.equal(readFileSync(join(REPO, 'docs/metrics.md'), 'utf8'), await metricsReference());
});
