// The JSON Schema of rule files (docs/schemas/rules.schema.json). Which keys an item may carry comes
// from the loader's own table (ITEM_KEYS in loader.ts); this module only says what each key means
// and takes, and every key the loader knows must have an entry here (the build of the schema fails
// otherwise), so a key added to the loader cannot be missing from the schema.
//
// The schema checks one file's shape. What needs the whole rule set (macros and lists named in a
// condition, appends to items of other files, field names, override naming the keys set) is
// checked by the loader: `vigild rules check`.
import { durationPattern } from '../../common/duration.js';
import { anyCase, schemaDocument, type JsonSchema } from '../../common/json-schema.js';
import { CMP_OPS, WORD_OPS } from './parser.js';
import { ITEM_KEYS, PRIORITY_ALIASES } from './loader.js';
import type { RuleKind } from './rule-match.js';
import { ACTIONS, SEVERITIES } from '../core/severity.js';

const KINDS: readonly RuleKind[] = ['event', 'sequence', 'threshold', 'metric'];
/** The keys that only some rule types take (as Compiler.rule in loader.ts refuses them elsewhere). */
const KIND_KEYS: Record<RuleKind, readonly string[]> = {
  event: [],
  sequence: ['by', 'window', 'steps'],
  threshold: ['by', 'window', 'count', 'distinct'],
  metric: ['for'],
};
const KIND_ONLY = [...new Set(Object.values(KIND_KEYS).flat())];

const name: JsonSchema = { type: 'string', minLength: 1 };
const strings: JsonSchema = { type: 'array', items: { type: 'string' } };
const condition: JsonSchema = { type: 'string', description: 'A condition in the rule language (docs/rules.md; fields: docs/fields.md).' };
/** The loader's durations: a number of seconds, or vigil's duration grammar (common/duration.ts). */
function durationSchema(positive: boolean): JsonSchema {
  return {
    anyOf: [
      { type: 'number', ...(positive ? { exclusiveMinimum: 0 } : { minimum: 0 }) },
      { type: 'string', pattern: durationPattern(positive) },
    ],
  };
}
const OPS = [...CMP_OPS, ...WORD_OPS];
const scalar: JsonSchema = { type: ['string', 'number', 'boolean'] };

/** What each key of an item means and takes. Keyed by name: a key means the same in every item type. */
const KEYS: Record<string, JsonSchema> = {
  rule: { description: "The rule's name; an item of the same name replaces, appends to or overrides an earlier one.", ...name },
  macro: { description: "The macro's name, used in conditions.", ...name },
  list: { description: "The list's name, used in conditions and exceptions.", ...name },
  items: { description: "The list's values; a value naming another list includes it.", type: 'array', items: scalar },
  condition,
  desc: { description: 'What the rule detects.', type: 'string' },
  output: { description: "The alert message; %field is replaced by the field's value.", type: 'string' },
  severity: { description: `One of ${SEVERITIES.join(', ')} (any case).`, type: 'string', pattern: `^(?:${SEVERITIES.map(anyCase).join('|')})$` },
  tags: { description: 'Tags (MITRE ids, topics).', ...strings },
  enabled: { description: 'false turns the rule off; an item with only rule: and enabled: changes an earlier rule.', type: 'boolean' },
  exceptions: {
    description: 'Matches to leave out: fields, and tuples of values (or lists) compared with comps.',
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { description: "The exception's name.", type: 'string' },
        fields: { description: 'A field, or a list of fields.', anyOf: [{ type: 'string' }, strings] },
        values: { description: 'Tuples of values, one value (or list of values) per field.', type: 'array' },
        comps: {
          description: 'An operator per field (default = or in).',
          anyOf: [
            { type: 'string', enum: OPS },
            { type: 'array', items: { type: 'string', enum: OPS } },
          ],
        },
      },
    },
  },
  actions: { description: 'Responses to a match.', type: 'array', items: { type: 'string', enum: [...ACTIONS] } },
  type: { description: 'event (the default), sequence, threshold or metric.', type: 'string', enum: [...KINDS] },
  append: { description: 'true: add to the earlier item of this name instead of replacing it.', type: 'boolean' },
  override: {
    description: "Per key, append or replace the earlier item's value.",
    type: 'object',
    additionalProperties: { type: 'string', enum: ['append', 'replace'] },
  },
  by: { description: 'sequence: process or container; threshold: the field whose values are counted apart (default container.id).', type: 'string' },
  window: { description: 'sequence and threshold: the time window (500ms, 10s, 5m, 1h).', ...durationSchema(true) },
  steps: {
    description: 'sequence: two or more steps, each with a condition, in order.',
    type: 'array',
    minItems: 2,
    items: { type: 'object', required: ['condition'], additionalProperties: false, properties: { condition } },
  },
  count: {
    description: 'threshold: matches (or distinct values) within the window that fire the rule.',
    anyOf: [
      { type: 'integer', minimum: 1 },
      { type: 'string', pattern: '^\\s*0*[1-9]\\d*\\s*$' },
    ],
  },
  distinct: { description: 'threshold: count distinct values of this field instead of events.', type: 'string' },
  for: { description: 'metric: how long the condition must hold (0s: at once).', ...durationSchema(false) },
  // Falco's keys (docs/falco.md).
  priority: {
    description: `Falco's name for severity: one of ${SEVERITIES.join(', ')} or ${Object.keys(PRIORITY_ALIASES).join(', ')} (any case). A rule with priority: follows Falco's semantics.`,
    type: 'string',
    pattern: `^(?:${[...SEVERITIES, ...Object.keys(PRIORITY_ALIASES)].map(anyCase).join('|')})$`,
  },
  source: {
    description: "Falco's event source: syscall (the default) or a plugin's; rules of a plugin source vigil does not have are skipped with a warning.",
    type: 'string',
  },
  'skip-if-unknown-filter': {
    description: 'Falco: true skips the rule (with a warning) when its condition names a field vigil does not have, instead of failing the file.',
    type: 'boolean',
  },
  warn_evttypes: { description: 'Falco: accepted; vigil always warns when a rule can never fire.', type: 'boolean' },
  capture: { description: 'Falco: accepted and ignored (vigil records no capture files).', type: 'boolean' },
  capture_duration: { description: 'Falco: accepted and ignored.', type: 'integer', minimum: 0 },
};

function itemSchema(type: keyof typeof ITEM_KEYS): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const k of ITEM_KEYS[type]) {
    const s = KEYS[k];
    if (!s) throw new Error(`daemon/detect/schema.ts: the loader's ${type} key ${JSON.stringify(k)} has no schema entry`);
    properties[k] = s;
  }
  const rules: JsonSchema[] = [{ not: { required: ['append', 'override'] } }];
  if (type === 'rule') {
    // A new definition (not an append or override) must keep to its type's keys; a change to an
    // earlier rule may set them without type:, which the loader checks after merging.
    const fresh: JsonSchema = { not: { anyOf: [{ required: ['append'], properties: { append: { const: true } } }, { required: ['override'] }] } };
    for (const kind of KINDS) {
      const disallowed = KIND_ONLY.filter((k) => !KIND_KEYS[kind].includes(k));
      const isKind: JsonSchema =
        kind === 'event'
          ? { anyOf: [{ not: { required: ['type'] } }, { properties: { type: { const: 'event' } } }] }
          : { required: ['type'], properties: { type: { const: kind } } };
      const then: JsonSchema = { not: { anyOf: disallowed.map((k) => ({ required: [k] })) } };
      if (kind === 'sequence') then.properties = { by: { enum: ['process', 'container'] } };
      rules.push({ if: { allOf: [fresh, isKind] }, then });
    }
  }
  return { type: 'object', required: [type], properties, additionalProperties: false, allOf: rules };
}

/** The JSON Schema of a rule file, from the loader's key table. */
export function rulesSchema(): JsonSchema {
  // The loader's order: an item is a rule if it has rule:, else a macro, else a list.
  const types = (['rule', 'macro', 'list'] as const).filter((t) => t in ITEM_KEYS);
  const unused = Object.keys(KEYS).filter((k) => !types.some((t) => ITEM_KEYS[t].includes(k)));
  if (unused.length > 0) throw new Error(`daemon/detect/schema.ts describes keys the loader does not know: ${unused.join(', ')}`);
  // The loader takes the first of rule, macro, list an item has; an item with none of them is
  // skipped only when it is Falco's required_engine_version or required_plugin_versions.
  const [first, ...rest] = types;
  const chain = (t: keyof typeof ITEM_KEYS, others: Array<keyof typeof ITEM_KEYS>): JsonSchema =>
    others.length === 0
      ? {
          if: { required: [t] },
          then: itemSchema(t),
          else: { type: 'object', anyOf: [{ required: ['required_engine_version'] }, { required: ['required_plugin_versions'] }] },
        }
      : { if: { required: [t] }, then: itemSchema(t), else: chain(others[0]!, others.slice(1)) };
  return schemaDocument(
    'vigil rule file',
    "A vigil rule file (docs/rules.md): a list of rule, macro and list items. Generated from daemon/detect/loader.ts by `vigild config schema rules`. The schema checks one file's shape; conditions, fields, macros and lists used, and appends across files are checked by `vigild rules check`.",
    { type: ['array', 'null'], items: { type: 'object', ...chain(first!, rest) } },
  );
}
