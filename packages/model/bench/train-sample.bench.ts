/**
 * Training and sampling throughput of @linewise/model on a 3.4M-parameter GPT-2 style model (4 layers,
 * d=256, 4 heads, vocab 512, context 256; training batch 8x256; sampling 16 sequences x 128 new tokens)
 * against the same model in PyTorch, in one run.
 *
 *   pnpm --filter @linewise/model bench
 *   LINEWISE_BENCH_STEPS=10 pnpm --filter @linewise/model bench
 *
 * Our rows: pure wasm (our kernels) and wasm with the native BLAS accelerator (when built). The PyTorch
 * peer is Debian's python3-torch (installed here with apt-get when missing and running as root; set
 * LINEWISE_BENCH_NO_APT=1 to skip that), tried at several thread settings; the fastest setting per
 * task is the baseline. Every row runs in a fresh process. Writes bench-results/model.json at the
 * repository root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_MODEL } from './settings.ts';

interface Row {
  mode: 'train' | 'sample';
  who: string;
  tokensPerSecond?: number;
  unavailable?: string;
  detail?: Record<string, unknown>;
}

const steps = Number(process.env.LINEWISE_BENCH_STEPS ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3'; // Debian's interpreter: python3-torch is installed for it, not for pyenv
const PYTORCH_SETTINGS = [
  { torchThreads: 1, blasThreads: 2 },
  { torchThreads: 2, blasThreads: 1 },
  { torchThreads: 1, blasThreads: 1 },
];

function torchAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function ensureTorch(): string | undefined {
  if (torchAvailable()) return undefined;
  if (process.env.LINEWISE_BENCH_NO_APT === '1')
    return 'python3-torch is not installed (LINEWISE_BENCH_NO_APT=1)';
  if (process.getuid?.() !== 0) return 'python3-torch is not installed (apt-get needs root)';
  console.log('installing python3-torch and libopenblas0-pthread with apt-get ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  // Without libopenblas0-pthread, Debian's torch falls back to a reference BLAS 80x slower.
  spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread'], {
    stdio: 'inherit',
    env,
  });
  return torchAvailable() ? undefined : 'apt-get could not install python3-torch';
}

function lastJsonLine(output: string): Record<string, unknown> {
  return JSON.parse(output.trim().split('\n').pop() as string) as Record<string, unknown>;
}

function ours(mode: Row['mode'], accelerator: 'wasm' | 'native'): Row {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, join(here, 'measure.ts'), mode, accelerator, String(steps)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const m = lastJsonLine(out);
  const who = accelerator === 'native' ? 'linewise (wasm + native BLAS)' : 'linewise (pure wasm)';
  if (typeof m.unavailable === 'string') return { mode, who, unavailable: m.unavailable };
  return { mode, who, tokensPerSecond: m.tokensPerSecond as number, detail: m };
}

function pytorch(mode: Row['mode'], setting: (typeof PYTORCH_SETTINGS)[number]): Row {
  const args = [
    join(here, 'pytorch_peer.py'),
    ...['--mode', mode, '--threads', String(setting.torchThreads), '--steps', String(steps)],
    ...[
      '--warmup',
      String(BENCH_MODEL.warmup),
      '--vocab',
      String(BENCH_MODEL.vocab),
      '--ctx',
      String(BENCH_MODEL.ctx),
    ],
    ...[
      '--d',
      String(BENCH_MODEL.d),
      '--layers',
      String(BENCH_MODEL.layers),
      '--heads',
      String(BENCH_MODEL.heads),
    ],
    ...['--batch', String(BENCH_MODEL.batch), '--sample-batch', String(BENCH_MODEL.sampleBatch)],
    ...['--prompt', String(BENCH_MODEL.prompt), '--new-tokens', String(BENCH_MODEL.newTokens)],
  ];
  const out = execFileSync(PYTHON, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(setting.blasThreads),
      OMP_NUM_THREADS: String(setting.torchThreads),
    },
  });
  const m = lastJsonLine(out);
  return {
    mode,
    who: `PyTorch ${m.torch} (${setting.torchThreads} intra-op, ${setting.blasThreads} BLAS threads)`,
    tokensPerSecond: m.tokensPerSecond as number,
    detail: m,
  };
}

const torchMissing = ensureTorch();
const jobs: (() => Row)[] = [];
for (const mode of ['train', 'sample'] as const) {
  jobs.push(
    () => ours(mode, 'wasm'),
    () => ours(mode, 'native'),
  );
  if (torchMissing === undefined)
    for (const setting of PYTORCH_SETTINGS) jobs.push(() => pytorch(mode, setting));
}

const rows: Row[] = [];
const started = performance.now();
for (const job of jobs) {
  const row = job();
  rows.push(row);
  const elapsed = (performance.now() - started) / 1000;
  const eta = (elapsed / rows.length) * (jobs.length - rows.length);
  const rate =
    row.tokensPerSecond === undefined ? row.unavailable : `${row.tokensPerSecond.toFixed(0)} tokens/s`;
  console.log(
    `[${rows.length}/${jobs.length}] ${row.mode} ${row.who}: ${rate} (${elapsed.toFixed(0)} s elapsed, ETA ${eta.toFixed(0)} s)`,
  );
}

const lines = [
  '',
  `model: GPT-2 style, ${BENCH_MODEL.layers} layers, d=${BENCH_MODEL.d}, ${BENCH_MODEL.heads} heads, vocab ${BENCH_MODEL.vocab}, context ${BENCH_MODEL.ctx}`,
  `train: batch ${BENCH_MODEL.batch}x${BENCH_MODEL.ctx}, AdamW; sample: ${BENCH_MODEL.sampleBatch} sequences x ${BENCH_MODEL.newTokens} new tokens, KV cache, temperature 1`,
  `${steps} timed steps after ${BENCH_MODEL.warmup} warm-up steps per row; tokens/s`,
  '',
  '| task | implementation | tokens/s | vs best PyTorch |',
  '|---|---|---:|---:|',
];
const summary: Record<string, Record<string, number>> = {};
for (const mode of ['train', 'sample'] as const) {
  const peers = rows.filter(
    (r) => r.mode === mode && r.who.startsWith('PyTorch') && r.tokensPerSecond !== undefined,
  );
  const best = Math.max(...peers.map((r) => r.tokensPerSecond as number));
  summary[mode] = {};
  for (const row of rows.filter((r) => r.mode === mode)) {
    const ratio =
      row.tokensPerSecond !== undefined && peers.length > 0 ? row.tokensPerSecond / best : undefined;
    if (ratio !== undefined && !row.who.startsWith('PyTorch')) summary[mode][row.who] = ratio;
    const rate =
      row.tokensPerSecond === undefined ? `n/a (${row.unavailable})` : row.tokensPerSecond.toFixed(0);
    lines.push(`| ${mode} | ${row.who} | ${rate} | ${ratio === undefined ? '' : `${ratio.toFixed(2)}x`} |`);
  }
}
if (torchMissing !== undefined) lines.push('', `PyTorch peer skipped: ${torchMissing}`);
console.log(lines.join('\n'));

const outDir = join(here, '..', '..', '..', 'bench-results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'model.json');
writeFileSync(
  `${file}.tmp`,
  `${JSON.stringify({ date: new Date().toISOString(), steps, model: BENCH_MODEL, rows, ratios: summary }, null, 2)}\n`,
);
renameSync(`${file}.tmp`, file);
console.log(`\nwrote ${file}`);
