/**
 * The safetensors header: the 8-byte little-endian length N, then N bytes of JSON (space-padded to a
 * multiple of 8). Parsing validates as strictly as the reference implementation; building lays tensors
 * out back to back in the order given.
 */
import { SafetensorsError } from '../errors.ts';
import {
  DTYPE_BYTES,
  isDtype,
  isNonNegInt,
  numel,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  type WritableDtype,
} from './dtypes.ts';

/** The reference implementation's limit on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's header entry; `begin`/`end` are byte offsets into the data section. */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The file (or label) errors name. */
  file: string;
  /** N: the JSON header's length in bytes, padding included. */
  headerLength: number;
  /** Absolute byte offset of the data section: 8 + N. */
  dataStart: number;
  /** Byte length of the data section. */
  dataLength: number;
  /** Tensors in file order (ascending offsets). */
  tensors: Map<string, SafetensorsTensorInfo>;
  /** `__metadata__` (string to string), empty when absent. */
  metadata: Record<string, string>;
}

function readU64(bytes: Uint8Array, file: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi >= 0x200000) {
    throw new SafetensorsError(
      file,
      'header length',
      `header length ${hi * 2 ** 32 + lo} is not a sane size`,
    );
  }
  return hi * 2 ** 32 + lo;
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function parseHeaderLength(first8: Uint8Array, fileSize: number, file = '<buffer>'): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new SafetensorsError(
      file,
      'header length',
      `truncated file: ${fileSize} bytes, fewer than the 8-byte header length`,
    );
  }
  const n = readU64(first8, file);
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError(
      file,
      'header length',
      `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  if (8 + n > fileSize) {
    throw new SafetensorsError(
      file,
      'header length',
      `header length ${n} reaches beyond the end of the file (${fileSize} bytes): truncated or not safetensors`,
    );
  }
  return n;
}

/**
 * Parses and validates a header. `headerBytes` holds exactly the N JSON bytes (after the 8-byte length);
 * `fileSize` is the whole file's size, used to check the data section is covered exactly.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  fileSize: number,
  file = '<buffer>',
): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new SafetensorsError(file, 'header', `invalid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(file, 'header', 'the JSON header is not an object');
  }
  const metadata: Record<string, string> = {};
  const entries: SafetensorsTensorInfo[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new SafetensorsError(file, '__metadata__', 'must be an object of strings');
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(file, `__metadata__.${k}`, `must be a string, got ${JSON.stringify(v)}`);
        }
        metadata[k] = v;
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new SafetensorsError(file, 'entry', 'must be an object {dtype, shape, data_offsets}', name);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string') {
      throw new SafetensorsError(file, 'dtype', `missing or not a string: ${JSON.stringify(dtype)}`, name);
    }
    if (!isDtype(dtype)) {
      throw new SafetensorsError(
        file,
        'dtype',
        `unknown dtype '${dtype}' (known: ${SAFETENSORS_DTYPES.join(', ')})`,
        name,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
      throw new SafetensorsError(
        file,
        'shape',
        `must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
        name,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw new SafetensorsError(
        file,
        'data_offsets',
        `must be [begin, end] non-negative integers, got ${JSON.stringify(offsets)}`,
        name,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) {
      throw new SafetensorsError(file, 'data_offsets', `end ${end} is before begin ${begin}`, name);
    }
    const expected = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw new SafetensorsError(
        file,
        'data_offsets',
        `[${begin}, ${end}] spans ${end - begin} bytes but shape [${shape.join(', ')}] x ${dtype} needs ${expected}`,
        name,
      );
    }
    if (end > dataLength) {
      throw new SafetensorsError(
        file,
        'data_offsets',
        `[${begin}, ${end}] is out of range: the data section has ${Math.max(0, dataLength)} bytes (truncated file?)`,
        name,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: SafetensorsTensorInfo | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw new SafetensorsError(
        file,
        'data_offsets',
        `[${e.begin}, ${e.end}] overlaps tensor '${prev?.name}' [${prev?.begin}, ${prev?.end}]`,
        e.name,
      );
    }
    if (e.begin > cursor) {
      throw new SafetensorsError(
        file,
        'data_offsets',
        `[${e.begin}, ${e.end}] leaves a gap: bytes [${cursor}, ${e.begin}) belong to no tensor`,
        e.name,
      );
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(
      file,
      'data_offsets',
      `tensors cover ${cursor} bytes of a ${dataLength}-byte data section (trailing bytes or a wrong header)`,
    );
  }
  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const e of entries) tensors.set(e.name, e);
  return { file, headerLength, dataStart, dataLength, tensors, metadata };
}

/** The 8-byte length and the padded JSON header for tensors of the given byte sizes, in order. */
export function buildHeader(
  layout: { name: string; dtype: WritableDtype; shape: readonly number[]; bytes: number }[],
  metadata: Record<string, string> | undefined,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of layout) {
    if (t.name === '__metadata__') {
      throw new SafetensorsError('<write>', 'name', "'__metadata__' is reserved", t.name);
    }
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  const out = new Uint8Array(8 + padded.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded.length), true);
  out.set(padded, 8);
  return out;
}
