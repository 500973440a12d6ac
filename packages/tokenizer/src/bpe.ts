import { BYTE_TO_CHAR, bytesToByteLevel } from './byte-level.ts';
import { TokenizerError } from './errors.ts';
import type { Scanner } from './scanners.ts';

const NO_MERGE = 0x7fffffff;

/**
 * Merge lookup `(left id, right id) -> (rank, merged id)` as an open-addressing hash table on typed
 * arrays: keys stay small integers, lookups allocate nothing.
 */
export class MergeTable {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly merged: Int32Array;
  /** Set by `lookup`: the id the found pair merges into. */
  lastMerged = -1;

  constructor(capacityHint: number) {
    let size = 16;
    while (size < capacityHint * 2) size *= 2;
    this.mask = size - 1;
    this.lefts = new Int32Array(size).fill(-1);
    this.rights = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.merged = new Int32Array(size);
  }

  private slot(left: number, right: number): number {
    let h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca77);
    h ^= h >>> 15;
    let i = h & this.mask;
    while (this.lefts[i] !== -1 && (this.lefts[i] !== left || this.rights[i] !== right))
      i = (i + 1) & this.mask;
    return i;
  }

  /** Later entries for the same pair replace earlier ones, as in HF's merge map. */
  set(left: number, right: number, rank: number, merged: number): void {
    const i = this.slot(left, right);
    this.lefts[i] = left;
    this.rights[i] = right;
    this.ranks[i] = rank;
    this.merged[i] = merged;
  }

  /** The rank of the pair, or `NO_MERGE`; the merged id is left in `lastMerged`. */
  lookup(left: number, right: number): number {
    const i = this.slot(left, right);
    if (this.lefts[i] === -1) return NO_MERGE;
    this.lastMerged = this.merged[i] as number;
    return this.ranks[i] as number;
  }
}

export interface BpeModelOptions {
  /** byte-level token string -> id */
  vocab: Map<string, number>;
  merges: MergeTable;
  ignoreMerges: boolean;
  unkId: number | undefined;
  fuseUnk: boolean;
}

/** Words longer than this use the heap-based merge loop; shorter ones a linear scan (faster there). */
const LINEAR_SCAN_LIMIT = 48;
/** Pieces longer than this are not cached (long runs are rare and would bloat the cache). */
const CACHEABLE_LENGTH = 128;

/**
 * A byte-level BPE model with HF semantics: the pair with the lowest merge rank merges first, the
 * leftmost on ties, until no adjacent pair has a merge. Works on UTF-8 bytes directly (the
 * byte-level alphabet is only the storage format of the vocabulary).
 */
export class BpeModel {
  private readonly byteIds = new Int32Array(256);
  private readonly cache = new PieceCache();
  private symbols = new Int32Array(1024);
  private pairRanks = new Int32Array(1024);
  private pairMerged = new Int32Array(1024);
  private bytes = new Uint8Array(4096);

  constructor(private readonly options: BpeModelOptions) {
    for (let b = 0; b < 256; b++) this.byteIds[b] = options.vocab.get(BYTE_TO_CHAR[b] as string) ?? -1;
  }

  /** Appends the ids of each pre-tokenized piece to `out`. */
  encodePieces(pieces: readonly string[], out: number[]): void {
    const cache = this.cache;
    for (let p = 0; p < pieces.length; p++) {
      const piece = pieces[p] as string;
      if (piece.length === 0) continue;
      if (!cache.appendSliceTo(piece, 0, piece.length, out)) this.encodeUncached(piece, out);
    }
  }

  /** Appends the ids of `text` split by `scanner`; cache hits allocate nothing. */
  encodeScanned(text: string, scanner: Scanner, out: number[]): void {
    const cache = this.cache;
    for (let start = 0; start < text.length; ) {
      const end = scanner(text, start);
      if (!cache.appendSliceTo(text, start, end, out)) this.encodeUncached(text.slice(start, end), out);
      start = end;
    }
  }

  /** A cache miss: run BPE on the piece, cache the ids of short pieces, append them. */
  private encodeUncached(piece: string, out: number[]): void {
    const ids = this.tokenizePiece(piece);
    if (piece.length <= CACHEABLE_LENGTH) this.cache.add(piece, ids);
    for (let k = 0; k < ids.length; k++) out.push(ids[k] as number);
  }

  private tokenizePiece(piece: string): Int32Array {
    const n = this.writeUtf8(piece);
    const bytes = this.bytes;
    if (this.options.ignoreMerges) {
      const whole = this.options.vocab.get(bytesToByteLevel(bytes.subarray(0, n)));
      if (whole !== undefined) return Int32Array.of(whole);
    }
    if (this.symbols.length < n) {
      this.symbols = new Int32Array(n * 2);
      this.pairRanks = new Int32Array(n * 2);
      this.pairMerged = new Int32Array(n * 2);
    }
    const symbols = this.symbols;
    let len = 0;
    for (let k = 0; k < n; k++) {
      const id = this.byteIds[bytes[k] as number] as number;
      if (id >= 0) symbols[len++] = id;
      else {
        const unk = this.options.unkId;
        if (unk === undefined) {
          throw new TokenizerError(
            'UNENCODABLE_BYTE',
            `byte 0x${(bytes[k] as number).toString(16).padStart(2, '0')} has no token in the vocabulary and the model has no unk_token`,
          );
        }
        if (!(this.options.fuseUnk && len > 0 && symbols[len - 1] === unk)) symbols[len++] = unk;
      }
    }
    len = len <= LINEAR_SCAN_LIMIT ? this.mergeLinear(len) : this.mergeWithHeap(len);
    return symbols.slice(0, len);
  }

  /** O(n^2) but allocation-free; the common case for code, whose pieces are short. */
  private mergeLinear(length: number): number {
    const { symbols, pairRanks, pairMerged } = this;
    const merges = this.options.merges;
    let len = length;
    for (let k = 0; k + 1 < len; k++) {
      pairRanks[k] = merges.lookup(symbols[k] as number, symbols[k + 1] as number);
      pairMerged[k] = merges.lastMerged;
    }
    while (len > 1) {
      let best = NO_MERGE;
      let at = -1;
      for (let k = 0; k + 1 < len; k++) {
        if ((pairRanks[k] as number) < best) {
          best = pairRanks[k] as number;
          at = k;
        }
      }
      if (at < 0) break;
      symbols[at] = pairMerged[at] as number;
      symbols.copyWithin(at + 1, at + 2, len);
      pairRanks.copyWithin(at + 1, at + 2, len - 1);
      pairMerged.copyWithin(at + 1, at + 2, len - 1);
      len--;
      if (at > 0) {
        pairRanks[at - 1] = merges.lookup(symbols[at - 1] as number, symbols[at] as number);
        pairMerged[at - 1] = merges.lastMerged;
      }
      if (at + 1 < len) {
        pairRanks[at] = merges.lookup(symbols[at] as number, symbols[at + 1] as number);
        pairMerged[at] = merges.lastMerged;
      }
    }
    return len;
  }

  /**
   * HF's algorithm: a min-heap of (rank, position) over a linked list of symbols; stale entries
   * are skipped when popped. Positions are the original byte offsets, so ties go leftmost.
   */
  private mergeWithHeap(length: number): number {
    const { symbols } = this;
    const merges = this.options.merges;
    const next = new Int32Array(length);
    const prev = new Int32Array(length);
    const alive = new Uint8Array(length).fill(1);
    for (let k = 0; k < length; k++) {
      next[k] = k + 1 < length ? k + 1 : -1;
      prev[k] = k - 1;
    }
    const heap = new MinHeap();
    const pushPair = (pos: number): void => {
      const right = next[pos] as number;
      if (right < 0) return;
      const rank = merges.lookup(symbols[pos] as number, symbols[right] as number);
      if (rank !== NO_MERGE) heap.push(rank * 2 ** 31 + pos);
    };
    for (let k = 0; k + 1 < length; k++) pushPair(k);
    while (heap.size > 0) {
      const entry = heap.pop();
      const pos = entry % 2 ** 31;
      const rank = (entry - pos) / 2 ** 31;
      if (!alive[pos]) continue;
      const right = next[pos] as number;
      if (right < 0) continue;
      if (merges.lookup(symbols[pos] as number, symbols[right] as number) !== rank) continue;
      symbols[pos] = merges.lastMerged;
      alive[right] = 0;
      const after = next[right] as number;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if ((prev[pos] as number) >= 0) pushPair(prev[pos] as number);
      pushPair(pos);
    }
    let len = 0;
    for (let k = 0; k < length; k++) if (alive[k]) symbols[len++] = symbols[k] as number;
    return len;
  }

  /** UTF-8 of a well-formed string into the scratch buffer; returns the byte count. */
  private writeUtf8(text: string): number {
    if (this.bytes.length < text.length * 3) this.bytes = new Uint8Array(text.length * 3 + 16);
    const out = this.bytes;
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) out[n++] = c;
      else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
        c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 0x3f);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      } else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
    }
    return n;
  }
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }
  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        const r = l + 1;
        const c = r < items.length && (items[r] as number) < (items[l] as number) ? r : l;
        if ((items[c] as number) >= last) break;
        items[i] = items[c] as number;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}

/**
 * Piece -> ids cache: open addressing over parallel typed arrays, ids stored in one arena, so a hit
 * costs a hash, a string compare and the pushes. Cleared when full (code reuses few pieces a lot).
 */
class PieceCache {
  private static readonly MAX_ENTRIES = 1 << 19;
  private mask = (1 << 16) - 1;
  private keys: (string | undefined)[] = new Array(1 << 16);
  private hashes = new Int32Array(1 << 16);
  private starts = new Int32Array(1 << 16);
  private lengths = new Int32Array(1 << 16);
  private arena = new Int32Array(1 << 18);
  private arenaUsed = 0;
  private size = 0;

  private static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h | 1;
  }

  /** Pushes the cached ids of `text.slice(start, end)` without making the slice; false when not cached. */
  appendSliceTo(text: string, start: number, end: number, out: number[]): boolean {
    const h = PieceCache.hash(text, start, end);
    const keys = this.keys;
    const length = end - start;
    let i = h & this.mask;
    for (;;) {
      const stored = this.hashes[i] as number;
      if (stored === 0) return false;
      if (stored === h) {
        const key = keys[i] as string;
        if (key.length === length && text.startsWith(key, start)) break;
      }
      i = (i + 1) & this.mask;
    }
    const first = this.starts[i] as number;
    const count = this.lengths[i] as number;
    if (count === 1) out.push(first);
    else for (let k = 0; k < count; k++) out.push(this.arena[first + k] as number);
    return true;
  }

  add(piece: string, ids: Int32Array): void {
    if (this.size >= PieceCache.MAX_ENTRIES) this.clear(this.keys.length);
    else if (this.size * 2 >= this.keys.length) this.grow();
    this.insert(PieceCache.hash(piece, 0, piece.length), piece, ids);
  }

  private insert(h: number, piece: string, ids: ArrayLike<number>): void {
    let i = h & this.mask;
    while (this.hashes[i] !== 0) i = (i + 1) & this.mask;
    this.hashes[i] = h;
    this.keys[i] = piece;
    this.lengths[i] = ids.length;
    if (ids.length === 1) this.starts[i] = ids[0] as number;
    else {
      if (this.arenaUsed + ids.length > this.arena.length) {
        const bigger = new Int32Array(Math.max(this.arena.length * 2, this.arenaUsed + ids.length));
        bigger.set(this.arena);
        this.arena = bigger;
      }
      this.starts[i] = this.arenaUsed;
      for (let k = 0; k < ids.length; k++) this.arena[this.arenaUsed++] = ids[k] as number;
    }
    this.size++;
  }

  private clear(capacity: number): void {
    this.mask = capacity - 1;
    this.keys = new Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.arenaUsed = 0;
    this.size = 0;
  }

  private grow(): void {
    const { keys, hashes, starts, lengths, arena } = this;
    this.clear(keys.length * 2);
    this.arena = new Int32Array(arena.length);
    for (let i = 0; i < keys.length; i++) {
      if (hashes[i] === 0) continue;
      const length = lengths[i] as number;
      const start = starts[i] as number;
      this.insert(
        hashes[i] as number,
        keys[i] as string,
        length === 1 ? [start] : arena.subarray(start, start + length),
      );
    }
  }
}
