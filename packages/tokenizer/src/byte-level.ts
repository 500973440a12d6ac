/**
 * GPT-2's byte-level alphabet: every byte maps to one printable code point, so that vocabularies
 * can be stored as JSON strings. Printable Latin-1 bytes map to themselves; the other 68 bytes map to
 * U+0100 upward, in byte order.
 */
function buildByteToChar(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** Code point -> byte for the 256 byte-level characters; -1 elsewhere. All of them are below U+0144. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x144).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => {
    table[ch.charCodeAt(0)] = b;
  });
  return table;
})();

/** Bytes of a byte-level string, or `undefined` when a character is outside the byte alphabet. */
export function byteLevelToBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? (CHAR_TO_BYTE[c] as number) : -1;
    if (b < 0) return undefined;
    out[i] = b;
  }
  return out;
}

export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}
