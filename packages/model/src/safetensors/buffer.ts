/** Whole safetensors files held in memory: decode a buffer, encode tensors into one. */
import { decodeTensor, encodeData, type TensorData, type TensorToWrite, writableDtype } from './convert.ts';
import { buildHeader, parseHeaderLength, parseSafetensorsHeader, type SafetensorsHeader } from './header.ts';

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
