/**
 * One tensor's data to and from its stored bytes: every readable dtype to float32 or int32 (F16 through a
 * lookup table, I64 range-checked), and float32/int32 to the writable dtypes (F16 and BF16 rounded to
 * nearest even).
 */
import { SafetensorsError, UnsupportedDtypeError } from '../errors.ts';
import {
  DTYPE_BYTES,
  isNonNegInt,
  numel,
  READABLE_DTYPES,
  type SafetensorsDtype,
  WRITABLE_DTYPES,
  type WritableDtype,
} from './dtypes.ts';
import type { SafetensorsTensorInfo } from './header.ts';

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

/** `bytes`' own buffer, or a copy's when `bytes` is not aligned to `size`; {@link offsetOf} gives the start. */
function aligned(bytes: Uint8Array, size: number): ArrayBuffer {
  if (bytes.byteOffset % size === 0) return bytes.buffer as ArrayBuffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Where `bytes` starts in the buffer {@link aligned} returns. */
function offsetOf(bytes: Uint8Array, size: number): number {
  return bytes.byteOffset % size === 0 ? bytes.byteOffset : 0;
}

/**
 * Converts one tensor's raw bytes (exactly `info.end - info.begin` of them) to float32 or int32. F32 and I32
 * data are returned as views of `bytes` when aligned on a little-endian host (no copy); other dtypes are
 * converted into new arrays.
 */
export function decodeTensor(info: SafetensorsTensorInfo, bytes: Uint8Array, file = '<buffer>'): TensorData {
  const { name, dtype, shape } = info;
  const n = numel(shape);
  if (bytes.length !== n * DTYPE_BYTES[dtype]) {
    throw new SafetensorsError(
      file,
      'data',
      `expected ${n * DTYPE_BYTES[dtype]} bytes, got ${bytes.length}`,
      name,
    );
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

/** The dtype `t` is written as, after checking it suits the array type and the shape fits the data. */
export function writableDtype(name: string, t: TensorToWrite): WritableDtype {
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

/** `t`'s data as little-endian `dtype` bytes. */
export function encodeData(t: TensorToWrite, dtype: WritableDtype): Uint8Array {
  const n = t.data.length;
  const out = new Uint8Array(n * DTYPE_BYTES[dtype]);
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
