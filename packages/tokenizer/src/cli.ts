#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { TokenizerError } from './errors.ts';
import { FLAVOUR_NAMES, type FlavourName } from './flavours.ts';
import { Progress } from './progress.ts';
import { Tokenizer } from './tokenizer.ts';
import { trainBpe } from './train.ts';

const USAGE = `linewise-tokenize: byte-level BPE tokenization for code models

Usage:
  linewise-tokenize encode --tokenizer FILE [--text TEXT | --file FILE | < stdin] [options]
  linewise-tokenize decode --tokenizer FILE [--ids 1,2,3 | --file FILE | < stdin] [options]
  linewise-tokenize count  --tokenizer FILE FILE...
  linewise-tokenize train  [--out FILE] [--vocab-size N] [options] [CORPUS_FILE...]
  linewise-tokenize <command> --help

Every command reads a Hugging Face tokenizer.json (byte-level BPE: GPT-2, Qwen2, Llama-3,
StarCoder2, DeepSeek-Coder and tokenizers trained by 'train').`;

const HELP: Record<string, string> = {
  encode: `linewise-tokenize encode: text to token ids

Options:
  --tokenizer FILE        tokenizer.json to use (required)
  --text TEXT             text to encode (otherwise --file, otherwise stdin)
  --file FILE             read the text from FILE
  --no-special-tokens     do not add the post-processor's special tokens (e.g. BOS)
  --format json|tokens    json: one JSON array of ids (default); tokens: one "id<TAB>token" line each

Example:
  linewise-tokenize encode --tokenizer tokenizer.json --text 'def f(x):\\n    return x'`,
  decode: `linewise-tokenize decode: token ids to text

Options:
  --tokenizer FILE        tokenizer.json to use (required)
  --ids LIST              ids separated by commas or spaces, or a JSON array (otherwise --file, otherwise stdin)
  --file FILE             read the ids from FILE
  --skip-special-tokens   leave out special tokens

Example:
  linewise-tokenize decode --tokenizer tokenizer.json --ids 755,282,2120`,
  count: `linewise-tokenize count: tokens per file

Options:
  --tokenizer FILE        tokenizer.json to use (required)
  --json                  print one JSON object instead of a table

Prints tokens, bytes and bytes per token for each file and in total, and the encode speed.`,
  train: `linewise-tokenize train: train a byte-level BPE tokenizer

Options:
  --out FILE              where to write tokenizer.json (default: runs/tokenizer/tokenizer.json)
  --vocab-size N          final vocabulary size, special tokens and 256 bytes included (default 2048)
  --min-frequency N       a pair must occur at least N times to be merged (default 2)
  --special TOKEN         add a special token (repeatable; default <|endoftext|>)
  --pre-tokenizer NAME    ${FLAVOUR_NAMES.join(' | ')} (default qwen2)
  CORPUS_FILE...          text files, or .jsonl(.gz) files whose records' string fields are documents;
                          without any, the bundled HumanEval problems and solutions (MIT) are used

Writes the tokenizer atomically and prints its vocabulary size, merges and compression.`,
};

class UsageError extends Error {}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

/** The input given inline, else read from `--file`, else from stdin. */
function readInput(inline: string | undefined, file: string | undefined): string {
  return inline ?? (file ? readFileSync(file, 'utf8') : readStdin());
}

function requireTokenizer(path: string | undefined): Tokenizer {
  if (!path) throw new UsageError('--tokenizer FILE is required');
  return Tokenizer.fromFile(path);
}

function parseIds(text: string): number[] {
  const trimmed = text.trim();
  const parts: unknown[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed.split(/[\s,]+/).filter(Boolean);
  return parts.map((p, i) => {
    const n = typeof p === 'number' ? p : Number(p);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`id ${i + 1} (${JSON.stringify(p)}) is not a non-negative integer`);
    return n;
  });
}

/** Documents of a corpus file: each line's string fields for JSONL, the whole text otherwise. */
function readCorpusFile(path: string): string[] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  if (!/\.jsonl(\.gz)?$/.test(path)) return [text];
  const documents: string[] = [];
  text.split('\n').forEach((line, k) => {
    if (!line.trim()) return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      throw new UsageError(`${path}: line ${k + 1} is not valid JSON`);
    }
    if (typeof record === 'string') documents.push(record);
    else if (record && typeof record === 'object') {
      for (const value of Object.values(record)) if (typeof value === 'string') documents.push(value);
    }
  });
  return documents;
}

export const DEFAULT_CORPUS = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'corpus',
  'humaneval.jsonl.gz',
);

function encodeCommand(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      tokenizer: { type: 'string' },
      text: { type: 'string' },
      file: { type: 'string' },
      'no-special-tokens': { type: 'boolean' },
      format: { type: 'string', default: 'json' },
    },
  });
  if (values.format !== 'json' && values.format !== 'tokens') {
    throw new UsageError(`--format must be json or tokens, got ${JSON.stringify(values.format)}`);
  }
  const tokenizer = requireTokenizer(values.tokenizer);
  const ids = tokenizer.encode(readInput(values.text, values.file), {
    addSpecialTokens: !values['no-special-tokens'],
  });
  if (values.format === 'json') process.stdout.write(`${JSON.stringify(ids)}\n`);
  else for (const id of ids) process.stdout.write(`${id}\t${JSON.stringify(tokenizer.decode([id]))}\n`);
}

function decodeCommand(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      tokenizer: { type: 'string' },
      ids: { type: 'string' },
      file: { type: 'string' },
      'skip-special-tokens': { type: 'boolean' },
    },
  });
  const tokenizer = requireTokenizer(values.tokenizer);
  const ids = parseIds(readInput(values.ids, values.file));
  process.stdout.write(tokenizer.decode(ids, { skipSpecialTokens: values['skip-special-tokens'] ?? false }));
  if (process.stdout.isTTY) process.stdout.write('\n');
}

function countCommand(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tokenizer: { type: 'string' }, json: { type: 'boolean' } },
  });
  const tokenizer = requireTokenizer(values.tokenizer);
  if (positionals.length === 0) throw new UsageError('count needs at least one file');
  const rows = positionals.map((path) => {
    const text = readFileSync(path, 'utf8');
    const start = performance.now();
    const tokens = tokenizer.encode(text, { addSpecialTokens: false }).length;
    return { path, tokens, bytes: Buffer.byteLength(text), seconds: (performance.now() - start) / 1000 };
  });
  const total = rows.reduce(
    (a, r) => ({ tokens: a.tokens + r.tokens, bytes: a.bytes + r.bytes, seconds: a.seconds + r.seconds }),
    { tokens: 0, bytes: 0, seconds: 0 },
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ files: rows, total })}\n`);
    return;
  }
  const width = Math.max(5, ...rows.map((r) => r.path.length));
  const line = (name: string, tokens: number, bytes: number) =>
    `${name.padEnd(width)}  ${String(tokens).padStart(10)}  ${String(bytes).padStart(11)}  ${(tokens ? bytes / tokens : 0).toFixed(2).padStart(11)}`;
  console.log(
    `${'file'.padEnd(width)}  ${'tokens'.padStart(10)}  ${'bytes'.padStart(11)}  ${'bytes/token'.padStart(11)}`,
  );
  for (const r of rows) console.log(line(r.path, r.tokens, r.bytes));
  console.log(line('total', total.tokens, total.bytes));
  console.log(
    `encoded ${(total.bytes / 1e6).toFixed(2)} MB at ${(total.bytes / 1e6 / Math.max(total.seconds, 1e-9)).toFixed(1)} MB/s`,
  );
}

function trainCommand(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: join('runs', 'tokenizer', 'tokenizer.json') },
      'vocab-size': { type: 'string', default: '2048' },
      'min-frequency': { type: 'string', default: '2' },
      special: { type: 'string', multiple: true },
      'pre-tokenizer': { type: 'string', default: 'qwen2' },
    },
  });
  const vocabSize = Number(values['vocab-size']);
  const minFrequency = Number(values['min-frequency']);
  if (!Number.isInteger(vocabSize))
    throw new UsageError(`--vocab-size must be an integer, got ${values['vocab-size']}`);
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new UsageError(`--min-frequency must be a positive integer, got ${values['min-frequency']}`);
  }
  const flavourName = values['pre-tokenizer'] as FlavourName;
  if (!FLAVOUR_NAMES.includes(flavourName)) {
    throw new UsageError(`--pre-tokenizer must be one of ${FLAVOUR_NAMES.join(', ')}, got ${flavourName}`);
  }
  const files = positionals.length > 0 ? positionals : [DEFAULT_CORPUS];
  const documents = files.flatMap(readCorpusFile);
  const bytes = documents.reduce((n, d) => n + Buffer.byteLength(d), 0);
  console.log(
    `training a ${vocabSize}-token byte-level BPE (${flavourName} pre-tokenizer) on ${documents.length} documents, ` +
      `${(bytes / 1e6).toFixed(2)} MB${positionals.length === 0 ? ' (bundled HumanEval corpus)' : ''}`,
  );
  const started = performance.now();
  const counting = new Progress('count', documents.length, 'documents');
  const merging = new Progress('merge', undefined, 'merges');
  const tokenizer = trainBpe(documents, {
    vocabSize,
    minFrequency,
    specialTokens: values.special ?? ['<|endoftext|>'],
    preTokenizer: flavourName,
    onProgress: (p) => (p.phase === 'count' ? counting : merging.withTotal(p.total)).update(p.done),
  });
  counting.finish();
  merging.finish();
  const out = resolve(values.out);
  tokenizer.save(out);
  let tokens = 0;
  let roundTrips = 0;
  for (const d of documents) {
    const ids = tokenizer.encode(d, { addSpecialTokens: false });
    tokens += ids.length;
    if (tokenizer.decode(ids) === d.toWellFormed()) roundTrips++;
  }
  console.log(`wrote ${out}`);
  const early =
    tokenizer.vocabSize < vocabSize ? ` (stopped early: no pair occurs ${minFrequency} or more times)` : '';
  console.log(
    `vocabulary ${tokenizer.vocabSize} tokens${early}, trained in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(
    `compression on the training corpus: ${(bytes / tokens).toFixed(2)} bytes per token (${tokens} tokens)`,
  );
  console.log(`round trip: ${roundTrips}/${documents.length} documents decode to their exact text`);
}

const COMMANDS: Record<string, (args: string[]) => void> = {
  encode: encodeCommand,
  decode: decodeCommand,
  count: countCommand,
  train: trainCommand,
};

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`linewise-tokenize: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[command]);
    return 0;
  }
  try {
    run(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(
        `linewise-tokenize ${command}: ${(error as Error).message}\n(see linewise-tokenize ${command} --help)`,
      );
      return 2;
    }
    if (error instanceof TokenizerError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`linewise-tokenize ${command}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
