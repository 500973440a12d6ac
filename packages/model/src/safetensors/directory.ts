/**
 * A checkpoint directory's weights: `model.safetensors`, or the shards a `model.safetensors.index.json`
 * `weight_map` lists, opened together so each tensor name resolves to its file.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CheckpointError, SafetensorsError } from '../errors.ts';
import type { TensorData } from './convert.ts';
import { SafetensorsReader } from './file.ts';
import type { SafetensorsTensorInfo } from './header.ts';

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
