// JSON.parse of a request body, without ever making a string of the whole of a long batch. V8 puts a string over
// 128 KiB in a large-object page of its own, mapped fresh for each request and unmapped by the next scavenge; where
// page faults are dear (virtual machines such as Firecracker's) that cost about 1 ms per 256 KiB of body, more than
// parsing it. So a body of the form {"<key>": [ … ]} over PIECE_BYTES, as /predict/batch's {"rows": […]} and most
// V2 bodies are, is parsed in pieces of its array cut after a "}," and the pieces' elements joined.
// A cut that is not between two elements of that array (inside a string, or deeper) leaves a piece that is not JSON:
// then, as for any other body, the whole text is parsed, so the result and every error are JSON.parse's own.

/** The longest piece parsed on its own: well under 128 KiB even as UTF-16 (a body with characters beyond Latin-1). */
const PIECE_BYTES = 48 * 1024;

/** `{"key":[` with JSON's whitespace allowed between, at the start of the body; a key without escapes. */
const ARRAY_BODY_START = /^[ \t\n\r]*\{[ \t\n\r]*"([A-Za-z_$][\w$-]*)"[ \t\n\r]*:[ \t\n\r]*\[/;

const OBJECT_END = Buffer.from('},');
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The parsed body (what JSON.parse of its UTF-8 text gives); throws JSON.parse's SyntaxError when it is not JSON. */
export function parseJsonBody(bytes: Buffer): unknown {
  return (bytes.length > 2 * PIECE_BYTES && parsedInPieces(bytes)) || JSON.parse(bytes.toString('utf8'));
}

/** {key: elements} from the pieces of the body's array; undefined when the body is not of that form or a piece is not JSON. */
export function parsedInPieces(bytes: Buffer): Record<string, unknown[]> | undefined {
  const start = ARRAY_BODY_START.exec(bytes.toString('latin1', 0, 256));
  if (!start) return undefined;
  // The end: `]`, whitespace, `}` and whitespace.
  let end = bytes.length - 1;
  while (end > 0 && isSpace(bytes[end]!)) end--;
  if (bytes[end--] !== 0x7d) return undefined;
  while (end > 0 && isSpace(bytes[end]!)) end--;
  if (bytes[end] !== 0x5d) return undefined;
  const elements: unknown[] = [];
  for (let from = start[0].length; ;) {
    const cut = end - from > PIECE_BYTES ? bytes.indexOf(OBJECT_END, from + PIECE_BYTES) : -1;
    const to = cut >= 0 && cut < end ? cut + 1 : end;
    let piece: unknown[];
    try {
      piece = JSON.parse(`[${bytes.toString('utf8', from, to)}]`) as unknown[];
    } catch {
      return undefined;
    }
    // An empty piece is an empty array or a stray comma: the whole body decides.
    if (piece.length === 0) return undefined;
    for (const element of piece) elements.push(element);
    if (to === end) break;
    from = to + 1; // past the comma
  }
  return { [start[1]!]: elements };
}
