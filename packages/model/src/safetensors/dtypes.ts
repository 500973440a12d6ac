/**
 * Safetensors dtypes: the names the specification knows, their element sizes, and which of them this
 * package reads and writes; plus the shape helpers the header and the converters share.
 */

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

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
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

/** Whether `s` names a dtype of the specification. */
export function isDtype(s: string): s is SafetensorsDtype {
  return (SAFETENSORS_DTYPES as readonly string[]).includes(s);
}

/** Element count of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A valid shape dimension or byte offset. */
export function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
