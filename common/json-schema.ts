// The few JSON Schema (draft 2020-12) pieces that vigil's config parsers build their schemas from.
// The schemas in docs/schemas/ are generated from the parsers' own key tables, so these helpers only
// shape what a table says into JSON; they never describe a key themselves.

export const JSON_SCHEMA_DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** A JSON Schema object. Open on purpose: keywords are many and the schemas are only ever emitted. */
export interface JsonSchema {
  [keyword: string]: unknown;
}

/**
 * A regex fragment matching `word` in any case: JSON Schema patterns are ECMA-262 without flags,
 * so where a parser lower-cases its input the schema spells both cases out.
 */
export function anyCase(word: string): string {
  return [...word]
    .map((c) => (c.toLowerCase() !== c.toUpperCase() ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
}

/** Escapes text for use inside a pattern. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The top of a schema document: the draft, a title, a description, then the body. */
export function schemaDocument(title: string, description: string, body: JsonSchema): JsonSchema {
  return { $schema: JSON_SCHEMA_DRAFT, title, description, ...body };
}

/** The text written to docs/schemas/*.json: two-space JSON and a final newline (stable diffs). */
export function schemaText(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
