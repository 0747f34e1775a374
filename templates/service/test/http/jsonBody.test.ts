// A long body's array parsed in pieces (src/http/jsonBody.ts) gives exactly what JSON.parse of the whole text gives,
// and the same error when it is not JSON: random long bodies whose strings hold the byte pairs it cuts after ("},"),
// quotes, escapes and characters beyond ASCII, written with and without whitespace, valid and broken.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsedInPieces, parseJsonBody } from '../../src/http/jsonBody.js';

/** Strings that put cut points, quotes and escapes inside values. */
const text = fc.oneof(
  fc.string(),
  fc.constantFrom('},{', '"},{"a":1}', '\\', '\\"},', '}, {', 'é ü €', '😀},', ']}', '{"rows":['),
  fc.array(fc.constantFrom('},', '{', '"', '\\', 'x', '😀', ' '), { maxLength: 40 }).map((parts) => parts.join('')),
);
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null)),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(text, tie('node'), { maxKeys: 3 }),
  ),
})).node;
const row = fc.dictionary(fc.oneof(fc.constantFrom('sepal_length', 'colour', 'id'), text), value, { minKeys: 1, maxKeys: 5 });

/** The body's text: JSON.stringify's, indented, or spaced like Python's json.dumps (", " and ": "). */
function written(body: unknown, style: 'compact' | 'indented' | 'spaced'): string {
  if (style === 'compact') return JSON.stringify(body);
  // Every line break JSON.stringify writes is between tokens (a string's are escaped).
  return style === 'indented' ? JSON.stringify(body, null, 2) : JSON.stringify(body, null, 1).replace(/\n */g, ' ');
}

/** Breaks a valid body the ways clients do: a trailing comma, cut short, a second key, a byte JSON does not allow. */
const breakages: ((json: string) => string)[] = [
  (json) => json.replace(/\]\s*\}\s*$/, ',]}'),
  (json) => json.slice(0, -3),
  (json) => json.replace(/\]\s*\}\s*$/, '],"rows":[]}'),
  (json) => `\f${json}`,
  (json) => `\uFEFF${json}`,
  (json) => json.replace(/\}\s*,\s*\{/, '},,{'),
  (json) => `${json}}`,
  (json) => json.replace(/\}\s*$/, ']'),
];

/** What JSON.parse does with the text: its value, or its error's message. */
function parsed(parse: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: parse() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('a long JSON body parsed in pieces', () => {
  it('gives what JSON.parse of the whole text gives, value or error, for any long body', () => {
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 20 }),
        fc.constantFrom('rows', 'inputs'),
        fc.constantFrom('compact', 'indented', 'spaced'),
        fc.option(fc.nat(breakages.length - 1)),
        (rows, key, style, breakage) => {
          // Repeated until the body is long enough to be cut.
          const copies = Math.ceil((120 * 1024) / JSON.stringify(rows).length);
          const many = Array.from({ length: copies }, () => rows).flat();
          let json = written({ [key]: many }, style as 'compact' | 'indented' | 'spaced');
          if (breakage !== null) json = breakages[breakage]!(json);
          const bytes = Buffer.from(json);
          assert.deepEqual(
            parsed(() => parseJsonBody(bytes)),
            parsed(() => JSON.parse(json)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts a /predict/batch body of rows, so no string of the whole body is made', () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ id: `r-${i}`, sepal_length: 5.1 + i / 1000, colour: 'red' }));
    const bytes = Buffer.from(JSON.stringify({ rows }));
    assert.ok(bytes.length > 128 * 1024);
    assert.deepEqual(parsedInPieces(bytes), { rows });
    // The other forms are left to JSON.parse: another key after the array, or a body of another shape.
    assert.equal(parsedInPieces(Buffer.from(JSON.stringify({ rows, id: 'x' }))), undefined);
    assert.equal(parsedInPieces(Buffer.from(JSON.stringify(rows))), undefined);
    // A trailing comma right after the last cut (one long row) is JSON.parse's error too.
    const trailing = `{"rows":[{"note":"${'x'.repeat(100 * 1024)}"},]}`;
    assert.throws(() => parseJsonBody(Buffer.from(trailing)), { name: 'SyntaxError' });
  });
});
