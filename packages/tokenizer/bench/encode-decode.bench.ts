/**
 * Encode and decode throughput of @linewise/tokenizer against gpt-tokenizer, tiktoken (wasm) and the
 * official Hugging Face binding, on the same code corpus and the same vocabularies, in one run.
 *
 *   pnpm bench                                     (all packages)
 *   pnpm --filter @linewise/tokenizer bench        (this one)
 *   LINEWISE_BENCH_ROUNDS=9 pnpm --filter @linewise/tokenizer bench
 *
 * Each (vocabulary, implementation) pair is measured in a fresh process by bench/measure.ts; every
 * implementation must produce the same ids as ours (compared by digest). Prints a table and the
 * ratios to the fastest peer, and writes bench-results/tokenizer.json at the repository root.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEER_NAMES, VOCABULARIES } from './peers.ts';

interface Measurement {
  peer: string;
  vocabulary: string;
  encodeMBps: number;
  decodeMBps: number;
  tokens: number;
  digest: string;
  corpus: { bytes: number; files: number; fingerprint: string; byLanguage: Record<string, number> };
}

const rounds = Number(process.env.LINEWISE_BENCH_ROUNDS ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const ours = PEER_NAMES[0];

const results: Measurement[] = [];
const total = Object.keys(VOCABULARIES).length * PEER_NAMES.length;
const started = performance.now();
for (const vocabulary of Object.keys(VOCABULARIES)) {
  for (const peer of PEER_NAMES) {
    const line = execFileSync(
      process.execPath,
      [...process.execArgv, join(here, 'measure.ts'), peer, vocabulary, String(rounds)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const m = JSON.parse(line.trim().split('\n').pop() as string) as Measurement;
    results.push(m);
    const done = results.length;
    const elapsed = (performance.now() - started) / 1000;
    console.log(
      `[${done}/${total}] ${vocabulary} ${peer}: encode ${m.encodeMBps.toFixed(1)} MB/s, decode ${m.decodeMBps.toFixed(1)} MB/s ` +
        `(${elapsed.toFixed(0)} s elapsed, ETA ${((elapsed / done) * (total - done)).toFixed(0)} s)`,
    );
  }
}

const corpus = (results[0] as Measurement).corpus;
const lines = [
  `corpus: ${(corpus.bytes / 1e6).toFixed(2)} MB in ${corpus.files} files (${Object.entries(corpus.byLanguage)
    .map(([l, b]) => `${l} ${(b / 1e6).toFixed(2)}`)
    .join(', ')}), fingerprint ${corpus.fingerprint}; median of ${rounds} passes, one process per row`,
  '',
  '| vocabulary | implementation | encode MB/s | decode MB/s | same ids as ours |',
  '|---|---|---:|---:|---|',
];
const reference = new Map(results.filter((r) => r.peer === ours).map((r) => [r.vocabulary, r.digest]));
for (const r of results) {
  const same = reference.get(r.vocabulary) === r.digest;
  lines.push(
    `| ${r.vocabulary} | ${r.peer} | ${r.encodeMBps.toFixed(1)} | ${r.decodeMBps.toFixed(1)} | ${same ? 'yes' : 'NO'} |`,
  );
}
lines.push('');
const ratios = Object.keys(VOCABULARIES).map((vocabulary) => {
  const rows = results.filter((r) => r.vocabulary === vocabulary);
  const mine = rows.find((r) => r.peer === ours) as Measurement;
  const peers = rows.filter((r) => r.peer !== ours);
  const bestEncode = peers.reduce((a, b) => (b.encodeMBps > a.encodeMBps ? b : a));
  const bestDecode = peers.reduce((a, b) => (b.decodeMBps > a.decodeMBps ? b : a));
  const ratio = {
    vocabulary,
    encode: mine.encodeMBps / bestEncode.encodeMBps,
    encodePeer: bestEncode.peer,
    decode: mine.decodeMBps / bestDecode.decodeMBps,
    decodePeer: bestDecode.peer,
  };
  lines.push(
    `${vocabulary}: encode ${ratio.encode.toFixed(2)}x the fastest peer (${ratio.encodePeer}; target >= 2), ` +
      `decode ${ratio.decode.toFixed(2)}x (${ratio.decodePeer}; target >= 1)`,
  );
  return ratio;
});
console.log(`\n${lines.join('\n')}`);

const out = join(here, '..', '..', '..', 'bench-results', 'tokenizer.json');
mkdirSync(dirname(out), { recursive: true });
const report = { date: new Date().toISOString(), node: process.version, rounds, results, ratios };
writeFileSync(`${out}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
renameSync(`${out}.tmp`, out);
console.log(`\nresults written to ${out}`);

const disagreeing = results.filter((r) => reference.get(r.vocabulary) !== r.digest);
if (disagreeing.length > 0) {
  console.error(`different ids: ${disagreeing.map((r) => `${r.peer} on ${r.vocabulary}`).join(', ')}`);
  process.exitCode = 1;
}
