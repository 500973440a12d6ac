const encoder = new TextEncoder();
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Lossy (U+FFFD for invalid sequences, as HF's from_utf8_lossy) and keeping a leading BOM, as HF does. */
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Length of the longest prefix of `bytes` after which a UTF-8 decoder holds no partial character:
 * everything up to the last lead byte when the bytes from it could still be completed by more
 * continuation bytes. A decoder is always at a boundary before a non-continuation byte, so the
 * prefix decodes the same alone as within the whole stream.
 */
export function completePrefixLength(bytes: ArrayLike<number>): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back] as number;
    if (b >= 0x80 && b < 0xc0) continue;
    const need = b >= 0xf0 && b < 0xf5 ? 4 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 1;
    if (need <= back) return n;
    // The lead byte's second byte has a narrower range for some leads; outside it the sequence is already invalid.
    if (back >= 2 && !secondByteFits(b, bytes[n - back + 1] as number)) return n;
    return n - back;
  }
  return n;
}

function secondByteFits(lead: number, second: number): boolean {
  if (lead === 0xe0) return second >= 0xa0 && second < 0xc0;
  if (lead === 0xed) return second >= 0x80 && second < 0xa0;
  if (lead === 0xf0) return second >= 0x90 && second < 0xc0;
  if (lead === 0xf4) return second >= 0x80 && second < 0x90;
  return second >= 0x80 && second < 0xc0;
}
