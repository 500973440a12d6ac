/** Looks up the bytes of token `id`, the `position`-th id of the stream (for error messages). */
export type TokenBytes = (id: number, position: number) => Uint8Array;

/**
 * Decodes ids as they arrive. Text is released as soon as it is complete UTF-8; the bytes of a
 * character split across tokens wait for the rest. The concatenation of everything `push` and
 * `flush` return equals `decode` of all the ids.
 */
export class DecodeStream {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private position = 0;
  constructor(private readonly bytesOf: TokenBytes) {}

  /** The text completed by this token (possibly empty). */
  push(id: number): string {
    return this.decoder.decode(this.bytesOf(id, this.position++), { stream: true });
  }

  /** Ends the stream: any incomplete trailing character becomes U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}

const NEWLINE = 0x0a;

/**
 * Line anchors over a stream of ids: `push` returns the anchor of every line the token closes
 * (a token holding several newlines closes several lines), `finish` the anchor of a final line
 * without a newline. Only `\n` ends a line (`\r\n` ends at its `\n`); `\n` is never part of a
 * multi-byte UTF-8 character, so counting bytes agrees with the decoded text.
 */
export class LineAnchorStream {
  private position = 0;
  private lineOpen = false;
  private lastContributor = -1;
  constructor(private readonly bytesOf: TokenBytes) {}

  push(id: number): number[] {
    const index = this.position++;
    const bytes = this.bytesOf(id, index);
    if (bytes.length === 0) return [];
    const closed: number[] = [];
    let afterLastNewline = bytes.length;
    for (let k = 0; k < bytes.length; k++) {
      if (bytes[k] === NEWLINE) {
        closed.push(index);
        afterLastNewline = bytes.length - k - 1;
      }
    }
    if (closed.length === 0) this.lineOpen = true;
    else this.lineOpen = afterLastNewline > 0;
    this.lastContributor = index;
    return closed;
  }

  finish(): number[] {
    const result = this.lineOpen ? [this.lastContributor] : [];
    this.lineOpen = false;
    return result;
  }
}
