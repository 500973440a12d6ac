/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}` (padded with spaces
 * to a multiple of 8, as Hugging Face writes it), then the raw little-endian tensor bytes, offsets relative
 * to the end of the header. Reading validates as strictly as the reference (Rust) implementation: the data
 * section must be covered exactly, without gaps, overlaps or trailing bytes.
 *
 * Files are read header-first; each tensor's bytes are then read on demand with a positioned read, so a
 * checkpoint never has to sit in memory whole. Sharded checkpoints (`model.safetensors.index.json` with a
 * `weight_map`) open through {@link openSafetensorsCheckpoint}.
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CheckpointError, SafetensorsError, UnsupportedDtypeError } from './errors.ts';

/** Every dtype the safetensors specification names. */
export const SAFETENSORS_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

const BYTES: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Dtypes this reader converts: floats become float32, integers int32 (range-checked). */
export const READABLE_DTYPES: readonly SafetensorsDtype[] = [
  'F32',
  'F16',
  'BF16',
  'F64',
  'I32',
  'I64',
  'I16',
  'I8',
  'U8',
  'BOOL',
];
/** Dtypes this writer produces. */
export const WRITABLE_DTYPES = ['F32', 'F16', 'BF16', 'I32', 'I64'] as const;
export type WritableDtype = (typeof WRITABLE_DTYPES)[number];

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

/** A decoded tensor: floating dtypes as float32, integer dtypes as int32. */
export interface TensorData {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
  /** The dtype it was stored as. */
  sourceDtype: SafetensorsDtype;
}

/** A tensor to write: `dtype` defaults to F32 for a Float32Array and I32 for an Int32Array. */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Int32Array;
  dtype?: WritableDtype;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(s: string): s is SafetensorsDtype {
  return (SAFETENSORS_DTYPES as readonly string[]).includes(s);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
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

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
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
    const expected = numel(shape as number[]) * BYTES[dtype];
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

let halfTable: Float32Array | undefined;
/** float16 bits -> float32 value, all 65536 of them. */
function f16Table(): Float32Array {
  if (halfTable !== undefined) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = table;
  return table;
}

/** float32 -> float16 bits, round to nearest even, overflow to infinity. */
function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++;
  return sign | r;
}

/** Little-endian view of `bytes` as `n` elements of `size` bytes, copying only when misaligned. */
function aligned(bytes: Uint8Array, size: number): ArrayBuffer {
  if (bytes.byteOffset % size === 0) return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

function offsetOf(bytes: Uint8Array, size: number): number {
  return bytes.byteOffset % size === 0 ? bytes.byteOffset : 0;
}

/**
 * Converts one tensor's raw bytes (exactly `info.end - info.begin` of them) to float32 or int32. F32 and I32
 * data are returned as views of `bytes` when aligned (no copy); other dtypes are converted into new arrays.
 */
export function decodeTensor(info: SafetensorsTensorInfo, bytes: Uint8Array, file = '<buffer>'): TensorData {
  const { name, dtype, shape } = info;
  const n = numel(shape);
  if (bytes.length !== n * BYTES[dtype]) {
    throw new SafetensorsError(file, 'data', `expected ${n * BYTES[dtype]} bytes, got ${bytes.length}`, name);
  }
  const f32 = (data: Float32Array): TensorData => ({ dtype: 'float32', shape, data, sourceDtype: dtype });
  const i32 = (data: Int32Array): TensorData => ({ dtype: 'int32', shape, data, sourceDtype: dtype });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (!LITTLE_ENDIAN)
        return f32(Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true)));
      return f32(new Float32Array(aligned(bytes, 4), offsetOf(bytes, 4), n));
    }
    case 'I32': {
      if (!LITTLE_ENDIAN) return i32(Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true)));
      return i32(new Int32Array(aligned(bytes, 4), offsetOf(bytes, 4), n));
    }
    case 'F16': {
      const table = f16Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)] as number;
      return f32(out);
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return f32(out);
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return f32(out);
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getInt32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        if (hi !== lo >> 31) {
          throw new SafetensorsError(
            file,
            'data',
            `I64 element ${i} (${view.getBigInt64(8 * i, true)}) does not fit in int32`,
            name,
          );
        }
        out[i] = lo;
      }
      return i32(out);
    }
    case 'I16':
      return i32(Int32Array.from({ length: n }, (_, i) => view.getInt16(2 * i, true)));
    case 'I8':
      return i32(Int32Array.from({ length: n }, (_, i) => view.getInt8(i)));
    case 'U8':
    case 'BOOL':
      return i32(Int32Array.from(bytes));
    default:
      throw new UnsupportedDtypeError(file, name, dtype, READABLE_DTYPES);
  }
}

/** Throws {@link UnsupportedDtypeError} for a tensor this reader cannot convert. */
export function assertReadable(info: SafetensorsTensorInfo, file: string): void {
  if (!READABLE_DTYPES.includes(info.dtype)) {
    throw new UnsupportedDtypeError(file, info.name, info.dtype, READABLE_DTYPES);
  }
}

/** Parses a whole safetensors file held in memory. Aligned F32/I32 tensors are views into `bytes`. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = '<buffer>',
): { header: SafetensorsHeader; tensors: Map<string, TensorData> } {
  const n = parseHeaderLength(bytes.subarray(0, 8), bytes.length, file);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, file);
  const tensors = new Map<string, TensorData>();
  for (const info of header.tensors.values()) {
    const start = header.dataStart + info.begin;
    tensors.set(info.name, decodeTensor(info, bytes.subarray(start, header.dataStart + info.end), file));
  }
  return { header, tensors };
}

function writableDtype(name: string, t: TensorToWrite): WritableDtype {
  const dtype = t.dtype ?? (t.data instanceof Int32Array ? 'I32' : 'F32');
  if (!(WRITABLE_DTYPES as readonly string[]).includes(dtype)) {
    throw new UnsupportedDtypeError('<write>', name, dtype, WRITABLE_DTYPES);
  }
  const isInt = dtype === 'I32' || dtype === 'I64';
  if (isInt !== t.data instanceof Int32Array) {
    throw new SafetensorsError(
      '<write>',
      'dtype',
      `${dtype} needs ${isInt ? 'an Int32Array' : 'a Float32Array'}`,
      name,
    );
  }
  if (numel(t.shape) !== t.data.length || !t.shape.every(isNonNegInt)) {
    throw new SafetensorsError(
      '<write>',
      'shape',
      `shape [${t.shape.join(', ')}] does not match ${t.data.length} elements`,
      name,
    );
  }
  return dtype;
}

function encodeData(t: TensorToWrite, dtype: WritableDtype): Uint8Array {
  const n = t.data.length;
  const out = new Uint8Array(n * BYTES[dtype]);
  const view = new DataView(out.buffer);
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      else for (let i = 0; i < n; i++) view.setFloat32(4 * i, t.data[i] as number, true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) view.setInt32(4 * i, t.data[i] as number, true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) view.setBigInt64(8 * i, BigInt(t.data[i] as number), true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) view.setUint16(2 * i, floatToHalf(t.data[i] as number), true);
      break;
    case 'BF16': {
      const bits = new Uint32Array(Float32Array.from(t.data).buffer);
      for (let i = 0; i < n; i++) {
        const x = bits[i] as number;
        // NaN stays NaN (quiet); otherwise round to nearest even on the dropped 16 bits.
        const r = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
        view.setUint16(2 * i, r & 0xffff, true);
      }
      break;
    }
  }
  return out;
}

function buildHeader(
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

type TensorSource = Map<string, TensorToWrite> | Iterable<[string, TensorToWrite]>;

/** Serialises tensors (in iteration order) into one safetensors buffer. */
export function encodeSafetensors(tensors: TensorSource, metadata?: Record<string, string>): Uint8Array {
  const list = [...tensors];
  const encoded = list.map(([name, t]) => ({ name, shape: t.shape, dtype: writableDtype(name, t), t }));
  const datas = encoded.map((e) => encodeData(e.t, e.dtype));
  const head = buildHeader(
    encoded.map((e, i) => ({ ...e, bytes: (datas[i] as Uint8Array).length })),
    metadata,
  );
  const out = new Uint8Array(head.length + datas.reduce((s, d) => s + d.length, 0));
  out.set(head);
  let at = head.length;
  for (const d of datas) {
    out.set(d, at);
    at += d.length;
  }
  return out;
}

/** A tensor whose data is fetched only when the writer reaches it (e.g. downloaded from a tfjs variable). */
export interface LazyTensorToWrite {
  shape: readonly number[];
  /** F32 (default), F16 or BF16 for float data; I32 or I64 for int32 data. */
  dtype?: WritableDtype;
  load: () => Promise<Float32Array | Int32Array> | Float32Array | Int32Array;
}

type FileTensorSource =
  | Map<string, TensorToWrite | LazyTensorToWrite>
  | Iterable<[string, TensorToWrite | LazyTensorToWrite]>;

/**
 * Writes a safetensors file tensor by tensor: the header comes from shapes alone and each tensor's data
 * is loaded, encoded and written in turn, so the file never sits in memory whole. Writes a temporary
 * file in the same directory, syncs it and renames it over `path`, so readers never see a half-written
 * file and a failed write leaves any previous file untouched.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: FileTensorSource,
  metadata?: Record<string, string>,
): Promise<void> {
  const list = [...tensors].map(([name, t]) => {
    const dtype = 'load' in t ? (t.dtype ?? 'F32') : writableDtype(name, t);
    if (!(WRITABLE_DTYPES as readonly string[]).includes(dtype)) {
      throw new UnsupportedDtypeError(path, name, dtype, WRITABLE_DTYPES);
    }
    return { name, shape: t.shape, dtype, t };
  });
  const head = buildHeader(
    list.map((e) => ({ ...e, bytes: numel(e.shape) * BYTES[e.dtype] })),
    metadata,
  );
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(head);
    for (const e of list) {
      const t: TensorToWrite =
        'load' in e.t ? { shape: e.shape, data: await e.t.load(), dtype: e.dtype } : (e.t as TensorToWrite);
      writableDtype(e.name, t);
      await fh.write(encodeData(t, e.dtype));
    }
    await fh.sync();
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, path);
}

/** An open safetensors file: the header is parsed on open, tensor data is read per tensor on demand. */
export class SafetensorsReader {
  private constructor(
    readonly path: string,
    readonly header: SafetensorsHeader,
    private readonly handle: Awaited<ReturnType<typeof open>>,
  ) {}

  /** Opens `path`, reading and validating only the header. */
  static async open(path: string): Promise<SafetensorsReader> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw new CheckpointError(path, `cannot open safetensors file: ${(err as Error).message}`);
    }
    try {
      const { size } = await fh.stat();
      const first = new Uint8Array(8);
      await fh.read(first, 0, Math.min(8, size), 0);
      const n = parseHeaderLength(first, size, path);
      const headerBytes = new Uint8Array(n);
      await fh.read(headerBytes, 0, n, 8);
      return new SafetensorsReader(path, parseSafetensorsHeader(headerBytes, size, path), fh);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.header.tensors.get(name);
    if (info === undefined) throw new CheckpointError(this.path, 'no such tensor in this file', name);
    return info;
  }

  /** Reads one tensor's bytes (only those) and converts them. */
  async read(name: string): Promise<TensorData> {
    const info = this.info(name);
    assertReadable(info, this.path);
    const bytes = new Uint8Array(info.end - info.begin);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, this.header.dataStart + info.begin);
    if (bytesRead !== bytes.length) {
      throw new SafetensorsError(
        this.path,
        'data',
        `short read: ${bytesRead} of ${bytes.length} bytes (file changed?)`,
        name,
      );
    }
    return decodeTensor(info, bytes, this.path);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads every tensor of one safetensors file. */
export async function readSafetensorsFile(
  path: string,
): Promise<{ header: SafetensorsHeader; tensors: Map<string, TensorData> }> {
  const reader = await SafetensorsReader.open(path);
  try {
    const tensors = new Map<string, TensorData>();
    for (const name of reader.names()) tensors.set(name, await reader.read(name));
    return { header: reader.header, tensors };
  } finally {
    await reader.close();
  }
}

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/**
 * The weights of a checkpoint directory: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` lists (model.safetensors wins when both exist, as in transformers).
 * Tensor names resolve to their file; reads are per tensor.
 */
export class SafetensorsCheckpoint {
  private constructor(
    readonly dir: string,
    /** The files opened, `model.safetensors` or the shards in index order. */
    readonly files: string[],
    private readonly readers: Map<string, SafetensorsReader>,
    private readonly where: Map<string, SafetensorsReader>,
  ) {}

  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    // transformers looks for model.safetensors first and for the index only without it.
    const single = join(dir, SAFETENSORS_FILE);
    if (await exists(single)) {
      const reader = await SafetensorsReader.open(single);
      const where = new Map(reader.names().map((n) => [n, reader]));
      return new SafetensorsCheckpoint(dir, [single], new Map([[single, reader]]), where);
    }
    const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
    let indexText: string;
    try {
      indexText = await readFile(indexPath, 'utf8');
    } catch {
      throw new CheckpointError(dir, `no ${SAFETENSORS_FILE} and no ${SAFETENSORS_INDEX_FILE}`);
    }
    const weightMap = parseIndex(indexText, indexPath);
    const readers = new Map<string, SafetensorsReader>();
    const where = new Map<string, SafetensorsReader>();
    try {
      for (const shard of new Set(weightMap.values())) {
        readers.set(shard, await SafetensorsReader.open(join(dir, shard)));
      }
      for (const [name, shard] of weightMap) {
        const reader = readers.get(shard) as SafetensorsReader;
        if (!reader.has(name)) {
          throw new CheckpointError(
            indexPath,
            `weight_map puts it in ${shard}, which does not hold it`,
            name,
          );
        }
        where.set(name, reader);
      }
    } catch (err) {
      for (const r of readers.values()) await r.close();
      throw err;
    }
    const files = [...readers.values()].map((r) => r.path);
    return new SafetensorsCheckpoint(
      dir,
      files,
      new Map([...readers.values()].map((r) => [r.path, r])),
      where,
    );
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  /** The file holding `name`, or undefined. */
  fileOf(name: string): string | undefined {
    return this.where.get(name)?.path;
  }

  info(name: string): SafetensorsTensorInfo & { file: string } {
    const reader = this.where.get(name);
    if (reader === undefined) throw new CheckpointError(this.dir, 'no such tensor in the checkpoint', name);
    return { ...reader.info(name), file: reader.path };
  }

  async read(name: string): Promise<TensorData> {
    const reader = this.where.get(name);
    if (reader === undefined) throw new CheckpointError(this.dir, 'no such tensor in the checkpoint', name);
    return reader.read(name);
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) await r.close();
  }
}

/** Opens a checkpoint directory's safetensors weights, single-file or sharded. */
export function openSafetensorsCheckpoint(dir: string): Promise<SafetensorsCheckpoint> {
  return SafetensorsCheckpoint.open(dir);
}

function parseIndex(text: string, file: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, 'index', `invalid JSON: ${(err as Error).message}`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new SafetensorsError(file, 'weight_map', 'missing or not an object {tensor: shard file}');
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || basename(shard) !== shard || shard.startsWith('.')) {
      throw new SafetensorsError(
        file,
        'weight_map',
        `shard must be a plain file name in the same directory, got ${JSON.stringify(shard)}`,
        name,
      );
    }
    out.set(name, shard);
  }
  if (out.size === 0) throw new SafetensorsError(file, 'weight_map', 'is empty');
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
