import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, SafetensorsError, UnsupportedDtypeError } from '../src/errors.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  openSafetensorsCheckpoint,
  readSafetensorsFile,
  SafetensorsReader,
  type TensorToWrite,
  writeSafetensorsFile,
} from '../src/safetensors.ts';
import { caught } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linewise-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A raw safetensors file from a header object (or raw header text) and a data section. */
function rawFile(header: unknown, data: Uint8Array, opts: { length?: number } = {}): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(opts.length ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

async function fileWith(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('encode / decode', () => {
  it('writes HF layout: u64 LE length, space-padded JSON to 8 bytes, raw LE data', () => {
    const bytes = encodeSafetensors(
      [
        ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
        ['b', { shape: [], data: Float32Array.from([-0.5]) }],
      ],
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' +
        '"b":{"dtype":"F32","shape":[],"data_offsets":[24,28]}}',
    );
    expect(/^[^ ]*} *$/.test(text)).toBe(true);
    expect(bytes.length).toBe(8 + n + 28);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 4, true)).toBe(2);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 24, true)).toBe(-0.5);
  });

  it('round-trips F32, I32 and I64 exactly', () => {
    const f = Float32Array.from({ length: 37 }, (_, i) => Math.fround(Math.sin(i) * 10 ** (i % 7)));
    f[3] = -0;
    f[4] = Number.POSITIVE_INFINITY;
    f[5] = 1.4e-45;
    const ints = Int32Array.from([0, 1, -1, 2147483647, -2147483648, 123456]);
    const bytes = encodeSafetensors([
      ['f', { shape: [37], data: f }],
      ['i', { shape: [2, 3], data: ints }],
      ['l', { shape: [6], data: ints, dtype: 'I64' }],
    ]);
    const { header, tensors } = decodeSafetensors(bytes);
    expect(header.tensors.get('l')?.dtype).toBe('I64');
    expect(tensors.get('f')?.dtype).toBe('float32');
    expect(Array.from(tensors.get('f')?.data ?? [])).toEqual(Array.from(f));
    expect(Object.is(tensors.get('f')?.data[3], -0)).toBe(true);
    expect(tensors.get('i')).toMatchObject({ dtype: 'int32', shape: [2, 3], sourceDtype: 'I32' });
    expect(Array.from(tensors.get('i')?.data ?? [])).toEqual(Array.from(ints));
    expect(Array.from(tensors.get('l')?.data ?? [])).toEqual(Array.from(ints));
  });

  it('decodes F16 bit patterns exactly and round-trips F16 with round-to-nearest-even', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555];
    const expected = [
      1,
      -2,
      65504,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      Infinity,
      -Infinity,
      -0,
      0.333251953125,
    ];
    const data = new Uint8Array(new Uint16Array(bits).buffer);
    const file = rawFile({ h: { dtype: 'F16', shape: [bits.length], data_offsets: [0, data.length] } }, data);
    const out = decodeSafetensors(file).tensors.get('h');
    expect(out?.sourceDtype).toBe('F16');
    expect(Array.from(out?.data ?? [])).toEqual(expected);
    const nan = decodeSafetensors(
      rawFile({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, Uint8Array.from([0x00, 0x7e])),
    );
    expect(Number.isNaN(nan.tensors.get('h')?.data[0])).toBe(true);

    // every finite half value survives encode -> decode bit-exactly
    const all = new Float32Array(65536);
    const table = decodeSafetensors(
      rawFile(
        { h: { dtype: 'F16', shape: [65536], data_offsets: [0, 131072] } },
        new Uint8Array(Uint16Array.from({ length: 65536 }, (_, i) => i).buffer),
      ),
    ).tensors.get('h')?.data as Float32Array;
    all.set(table);
    const finite = all.filter((x) => Number.isFinite(x));
    const back = decodeSafetensors(
      encodeSafetensors([['h', { shape: [finite.length], data: finite, dtype: 'F16' }]]),
    ).tensors.get('h')?.data as Float32Array;
    expect(back.every((x, i) => Object.is(x, finite[i]))).toBe(true);

    // rounding: halfway between 1 and 1+2^-10 goes to even (1); just above goes up; overflow to inf
    const tricky = Float32Array.from([
      1 + 2 ** -11,
      1 + 2 ** -11 + 2 ** -20,
      1 + 3 * 2 ** -11,
      65520,
      1e-8,
      3e-8,
    ]);
    const rounded = decodeSafetensors(
      encodeSafetensors([['t', { shape: [6], data: tricky, dtype: 'F16' }]]),
    ).tensors.get('t')?.data as Float32Array;
    expect(Array.from(rounded)).toEqual([1, 1 + 2 ** -10, 1 + 2 * 2 ** -10, Infinity, 0, 2 ** -24]);
  });

  it('decodes BF16 exactly and round-trips BF16 with round-to-nearest-even', () => {
    const bits = [0x3f80, 0x4049, 0xc2f7, 0x0001, 0x7f80];
    const expected = [1, 3.140625, -123.5, 2 ** -133, Infinity];
    const data = new Uint8Array(new Uint16Array(bits).buffer);
    const out = decodeSafetensors(
      rawFile({ b: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, data),
    ).tensors.get('b');
    expect(Array.from(out?.data ?? [])).toEqual(expected);

    const values = Float32Array.from([
      1,
      3.140625,
      1 + 2 ** -8,
      1 + 2 ** -8 + 2 ** -20,
      1 + 3 * 2 ** -8,
      -7.25,
    ]);
    const back = decodeSafetensors(
      encodeSafetensors([['b', { shape: [6], data: values, dtype: 'BF16' }]]),
    ).tensors.get('b')?.data as Float32Array;
    expect(Array.from(back)).toEqual([1, 3.140625, 1, 1 + 2 ** -7, 1 + 4 * 2 ** -8, -7.25]);
    const rand = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
    const r = decodeSafetensors(
      encodeSafetensors([['r', { shape: [1000], data: rand, dtype: 'BF16' }]]),
    ).tensors.get('r')?.data as Float32Array;
    const rBits = new Uint32Array(r.buffer, r.byteOffset, r.length);
    for (let i = 0; i < rand.length; i++) {
      const x = rand[i] as number;
      const y = r[i] as number;
      expect((rBits[i] as number) & 0xffff).toBe(0);
      // nearest: no other bf16 value (one ulp either side) is closer
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(y))) - 7);
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(y + ulp - x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(y - ulp - x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
    }
  });

  it('reads F64, I16, I8, U8 and BOOL', () => {
    const parts: [string, string, number[], Uint8Array][] = [
      ['d', 'F64', [2], new Uint8Array(Float64Array.from([0.1, -2.5]).buffer)],
      ['s', 'I16', [2], new Uint8Array(Int16Array.from([-300, 300]).buffer)],
      ['c', 'I8', [2], new Uint8Array(Int8Array.from([-5, 7]).buffer)],
      ['u', 'U8', [2], Uint8Array.from([200, 1])],
      ['z', 'BOOL', [2], Uint8Array.from([1, 0])],
    ];
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const [name, dtype, shape, bytes] of parts) {
      header[name] = { dtype, shape, data_offsets: [at, at + bytes.length] };
      at += bytes.length;
    }
    const data = new Uint8Array(at);
    at = 0;
    for (const [, , , bytes] of parts) {
      data.set(bytes, at);
      at += bytes.length;
    }
    const { tensors } = decodeSafetensors(rawFile(header, data));
    expect(Array.from(tensors.get('d')?.data ?? [])).toEqual([Math.fround(0.1), -2.5]);
    expect(Array.from(tensors.get('s')?.data ?? [])).toEqual([-300, 300]);
    expect(Array.from(tensors.get('c')?.data ?? [])).toEqual([-5, 7]);
    expect(Array.from(tensors.get('u')?.data ?? [])).toEqual([200, 1]);
    expect(Array.from(tensors.get('z')?.data ?? [])).toEqual([1, 0]);
  });

  it('re-encodes the Python-written fixtures byte for byte (F32, F16, BF16, sharded)', async () => {
    const cases: [string, 'F32' | 'F16' | 'BF16'][] = [
      ['gpt2-legacy/model.safetensors', 'F32'],
      ['llama-tiny/model.safetensors', 'F32'],
      ['gpt2-tiny-f16/model.safetensors', 'F16'],
      ['qwen2-tiny-bf16/model.safetensors', 'BF16'],
      ['llama-tiny-sharded/model-00002-of-00002.safetensors', 'F32'],
    ];
    for (const [rel, dtype] of cases) {
      const original = new Uint8Array(await readFile(join(FIXTURES, rel)));
      const { header, tensors } = decodeSafetensors(original, rel);
      expect(header.metadata).toEqual({ format: 'pt' });
      expect([...header.tensors.values()].every((t) => t.dtype === dtype)).toBe(true);
      const again = encodeSafetensors(
        [...tensors].map(([name, t]): [string, TensorToWrite] => [
          name,
          { shape: t.shape, data: t.data, dtype },
        ]),
        header.metadata,
      );
      expect(again.length).toBe(original.length);
      expect(Buffer.compare(Buffer.from(again), Buffer.from(original))).toBe(0);
    }
  });
});

describe('files', () => {
  it('writeSafetensorsFile writes atomically and SafetensorsReader reads per tensor', async () => {
    const tensors = new Map<string, TensorToWrite>([
      ['x', { shape: [3], data: Float32Array.from([1.5, -2, 3]) }],
      ['y.half', { shape: [1, 3], data: Float32Array.from([0.5, 0.25, -8]), dtype: 'F16' }],
      ['z', { shape: [1], data: Int32Array.from([-9]) }],
    ]);
    const path = join(dir, 'written.safetensors');
    await writeSafetensorsFile(path, tensors, { note: 'hi' });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const bytes = new Uint8Array(await readFile(path));
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(encodeSafetensors(tensors, { note: 'hi' })))).toBe(
      0,
    );

    const reader = await SafetensorsReader.open(path);
    try {
      expect(reader.names()).toEqual(['x', 'y.half', 'z']);
      expect(reader.header.metadata).toEqual({ note: 'hi' });
      expect(reader.info('y.half')).toMatchObject({ dtype: 'F16', shape: [1, 3], begin: 12, end: 18 });
      const y = await reader.read('y.half');
      expect(y).toMatchObject({ dtype: 'float32', shape: [1, 3], sourceDtype: 'F16' });
      expect(Array.from(y.data)).toEqual([0.5, 0.25, -8]);
      expect(Array.from((await reader.read('z')).data)).toEqual([-9]);
      // z starts at byte 18 of the data section: not 4-aligned in the file, still read correctly
      expect(reader.info('z').begin % 4).toBe(2);
      const err = await caught(CheckpointError, () => reader.read('nope'));
      expect(err.message).toContain("'nope'");
      expect(err.message).toContain(path);
    } finally {
      await reader.close();
    }
    const all = await readSafetensorsFile(path);
    expect([...all.tensors.keys()]).toEqual(['x', 'y.half', 'z']);
    expect(Array.from(all.tensors.get('x')?.data ?? [])).toEqual([1.5, -2, 3]);
  });

  it('opens a sharded checkpoint through model.safetensors.index.json', async () => {
    const ckpt = await openSafetensorsCheckpoint(join(FIXTURES, 'llama-tiny-sharded'));
    try {
      const index = JSON.parse(
        await readFile(join(FIXTURES, 'llama-tiny-sharded', 'model.safetensors.index.json'), 'utf8'),
      ) as { weight_map: Record<string, string> };
      expect(ckpt.files.length).toBe(2);
      expect(ckpt.names().sort()).toEqual(Object.keys(index.weight_map).sort());
      for (const [name, shard] of Object.entries(index.weight_map)) {
        expect(ckpt.fileOf(name)).toBe(join(FIXTURES, 'llama-tiny-sharded', shard));
      }
      const t = await ckpt.read('lm_head.weight');
      expect(t.shape).toEqual([97, 32]);
      expect(t.data.length).toBe(97 * 32);
      expect(t.data.some((x) => x !== 0)).toBe(true);
    } finally {
      await ckpt.close();
    }
  });

  it('rejects broken sharded indexes with typed errors naming file and tensor', async () => {
    const src = join(FIXTURES, 'llama-tiny-sharded');
    const shardDir = join(dir, 'shards');
    await rm(shardDir, { recursive: true, force: true });
    await (await import('node:fs/promises')).cp(src, shardDir, { recursive: true });
    const indexPath = join(shardDir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map: Record<string, string> };

    // a tensor the map puts in a shard that does not hold it
    const wrong = structuredClone(index);
    wrong.weight_map['lm_head.weight'] = 'model-00001-of-00002.safetensors';
    await writeFile(indexPath, JSON.stringify(wrong));
    let err: Error = await caught(CheckpointError, () => openSafetensorsCheckpoint(shardDir));
    expect(err.message).toContain("'lm_head.weight'");
    expect(err.message).toContain(indexPath);

    // a shard outside the directory
    const outside = structuredClone(index);
    outside.weight_map['lm_head.weight'] = '../model.safetensors';
    await writeFile(indexPath, JSON.stringify(outside));
    err = await caught(SafetensorsError, () => openSafetensorsCheckpoint(shardDir));
    expect(err.message).toContain('weight_map');
    expect(err.message).toContain("'lm_head.weight'");

    // a missing shard file
    const missing = structuredClone(index);
    missing.weight_map['lm_head.weight'] = 'model-00003-of-00002.safetensors';
    await writeFile(indexPath, JSON.stringify(missing));
    err = await caught(CheckpointError, () => openSafetensorsCheckpoint(shardDir));
    expect(err.message).toContain('model-00003-of-00002.safetensors');

    // invalid JSON and no weight_map
    await writeFile(indexPath, '{"weight_map": ');
    err = await caught(SafetensorsError, () => openSafetensorsCheckpoint(shardDir));
    expect(err.message).toContain(indexPath);
    expect(err.message).toContain('invalid JSON');
    await writeFile(indexPath, '{"metadata": {}}');
    err = await caught(SafetensorsError, () => openSafetensorsCheckpoint(shardDir));
    expect((err as SafetensorsError).field).toBe('weight_map');

    // no weights at all
    const empty = join(dir, 'empty');
    await (await import('node:fs/promises')).mkdir(empty, { recursive: true });
    err = await caught(CheckpointError, () => openSafetensorsCheckpoint(empty));
    expect(err.message).toContain('model.safetensors');
  });
});

describe('malformed files', () => {
  const good = () =>
    rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      },
      f32Bytes([1, 2, 3]),
    );

  /** Writes `bytes`, opens it, expects a SafetensorsError; checks file, field and tensor in the error. */
  async function rejects(
    name: string,
    bytes: Uint8Array,
    field: string,
    tensor: string | undefined,
    text: string,
  ): Promise<void> {
    const path = await fileWith(name, bytes);
    const err = await caught(SafetensorsError, () => SafetensorsReader.open(path));
    expect(err.file).toBe(path);
    expect(err.field).toBe(field);
    expect(err.tensor).toBe(tensor);
    expect(err.message).toContain(path);
    if (tensor !== undefined) expect(err.message).toContain(`'${tensor}'`);
    expect(err.message).toContain(text);
    // the in-memory decoder agrees
    const mem = await caught(SafetensorsError, () => decodeSafetensors(bytes, name));
    expect(mem.field).toBe(field);
    expect(mem.tensor).toBe(tensor);
  }

  it('accepts the well-formed baseline', async () => {
    const r = await SafetensorsReader.open(await fileWith('good.safetensors', good()));
    expect(Array.from((await r.read('b')).data)).toEqual([3]);
    await r.close();
  });

  it('truncated below 8 bytes', async () => {
    await rejects('tiny.safetensors', Uint8Array.from([1, 0, 0]), 'header length', undefined, 'truncated');
  });

  it('header length beyond the file', async () => {
    const bytes = good();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    await rejects('len.safetensors', bytes, 'header length', undefined, 'beyond the end of the file');
    const huge = good();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    await rejects('huge.safetensors', huge, 'header length', undefined, 'limit');
  });

  it('invalid JSON and non-object headers', async () => {
    await rejects(
      'json.safetensors',
      rawFile('{"a": {"dtype": "F32",', new Uint8Array()),
      'header',
      undefined,
      'JSON',
    );
    await rejects(
      'arr.safetensors',
      rawFile('[1, 2]', new Uint8Array()),
      'header',
      undefined,
      'not an object',
    );
  });

  it('unknown dtype', async () => {
    const bytes = rawFile({ w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1]));
    await rejects('dtype.safetensors', bytes, 'dtype', 'w', "unknown dtype 'F17'");
  });

  it('known but unsupported dtype fails on read with UnsupportedDtypeError', async () => {
    const bytes = rawFile(
      {
        ok: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        fp8: { dtype: 'F8_E4M3', shape: [4], data_offsets: [4, 8] },
      },
      f32Bytes([1, 2]),
    );
    const path = await fileWith('fp8.safetensors', bytes);
    const r = await SafetensorsReader.open(path);
    expect(Array.from((await r.read('ok')).data)).toEqual([1]);
    const err = await caught(UnsupportedDtypeError, () => r.read('fp8'));
    expect(err.tensor).toBe('fp8');
    expect(err.dtype).toBe('F8_E4M3');
    expect(err.message).toContain(path);
    await r.close();
  });

  it('offsets not matching shape x dtype', async () => {
    const bytes = rawFile({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, f32Bytes([1, 2, 3]));
    await rejects('size.safetensors', bytes, 'data_offsets', 'w', 'needs 16');
  });

  it('offsets out of range (truncated data section)', async () => {
    const full = good();
    await rejects('cut.safetensors', full.subarray(0, full.length - 2), 'data_offsets', 'b', 'out of range');
  });

  it('overlapping offsets', async () => {
    const bytes = rawFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      f32Bytes([1, 2, 3]),
    );
    await rejects('overlap.safetensors', bytes, 'data_offsets', 'b', "overlaps tensor 'a'");
  });

  it('gaps, trailing bytes, reversed and malformed offsets', async () => {
    const gap = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32Bytes([1, 2]));
    await rejects('gap.safetensors', gap, 'data_offsets', 'a', 'gap');
    const trailing = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32Bytes([1, 2]));
    await rejects('trail.safetensors', trailing, 'data_offsets', undefined, 'cover 4 bytes of a 8-byte');
    const reversed = rawFile({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32Bytes([1]));
    await rejects('rev.safetensors', reversed, 'data_offsets', 'a', 'before begin');
    const odd = rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32Bytes([1]));
    await rejects('odd.safetensors', odd, 'data_offsets', 'a', '[begin, end]');
    const shape = rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32Bytes([1]));
    await rejects('shape.safetensors', shape, 'shape', 'a', 'non-negative');
  });

  it('bad __metadata__', async () => {
    const bytes = rawFile(
      { __metadata__: { format: 1 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
      f32Bytes([1]),
    );
    await rejects('meta.safetensors', bytes, '__metadata__.format', undefined, 'must be a string');
  });

  it('I64 values outside int32', async () => {
    const data = new Uint8Array(new BigInt64Array([5n, 2n ** 40n]).buffer);
    const bytes = rawFile({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    const err = await caught(SafetensorsError, () => decodeSafetensors(bytes, 'ids.safetensors'));
    expect(err.tensor).toBe('ids');
    expect(err.message).toContain('1099511627776');
  });

  it('refuses to write inconsistent tensors', async () => {
    await caught(SafetensorsError, () =>
      encodeSafetensors([['a', { shape: [2, 2], data: new Float32Array(3) }]]),
    );
    await caught(SafetensorsError, () =>
      encodeSafetensors([['a', { shape: [1], data: new Float32Array(1), dtype: 'I32' }]]),
    );
    await caught(SafetensorsError, () =>
      encodeSafetensors([['__metadata__', { shape: [1], data: new Float32Array(1) }]]),
    );
  });
});
