/**
 * Safetensors files on disk, never held in memory whole: {@link SafetensorsReader} reads the header on
 * open and each tensor on demand with a positioned read; {@link writeSafetensorsFile} writes tensor by
 * tensor and atomically.
 */
import { open, rename, rm } from 'node:fs/promises';
import { CheckpointError, SafetensorsError, UnsupportedDtypeError } from '../errors.ts';
import {
  assertReadable,
  decodeTensor,
  encodeData,
  type TensorData,
  type TensorToWrite,
  writableDtype,
} from './convert.ts';
import { DTYPE_BYTES, numel, WRITABLE_DTYPES, type WritableDtype } from './dtypes.ts';
import {
  buildHeader,
  parseHeaderLength,
  parseSafetensorsHeader,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './header.ts';

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
    list.map((e) => ({ ...e, bytes: numel(e.shape) * DTYPE_BYTES[e.dtype] })),
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
