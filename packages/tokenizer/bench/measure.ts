/**
 * Measures one peer on one vocabulary in a process of its own (no peer's caches, heap or native
 * threads can slow another down). Prints one JSON line: MB/s for encode and decode (median of
 * `rounds` timed passes after two warm-up passes) and a digest of all ids for the agreement check.
 */
import { createHash } from 'node:crypto';
import { buildCodeCorpus } from '../test/support/corpus.ts';
import { createPeer, type PeerName } from './peers.ts';

const [peerName, vocabulary, roundsArg] = process.argv.slice(2) as [PeerName, string, string];
const rounds = Number(roundsArg);
const corpus = buildCodeCorpus();
const texts = corpus.documents.map((d) => d.text);
const megabytes = corpus.bytes / 1e6;
const peer = createPeer(peerName, vocabulary);

async function timed(pass: () => Promise<void>): Promise<number> {
  // Two warm-up passes: the first fills caches, the second lets the JIT settle.
  await pass();
  await pass();
  const seconds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await pass();
    seconds.push((performance.now() - start) / 1000);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)] as number;
}

const ids: number[][] = [];
for (const t of texts) ids.push(Array.from(await peer.encode(t)));
const digest = createHash('sha256');
for (const x of ids) digest.update(Uint32Array.from(x)).update('|');

const encodeSeconds = await timed(async () => {
  for (const t of texts) await peer.encode(t);
});
const decodeSeconds = await timed(async () => {
  for (const x of ids) await peer.decode(x);
});
peer.free?.();
console.log(
  JSON.stringify({
    peer: peerName,
    vocabulary,
    encodeMBps: megabytes / encodeSeconds,
    decodeMBps: megabytes / decodeSeconds,
    tokens: ids.reduce((n, x) => n + x.length, 0),
    digest: digest.digest('hex').slice(0, 16),
    corpus: {
      bytes: corpus.bytes,
      files: texts.length,
      fingerprint: corpus.fingerprint,
      byLanguage: corpus.byLanguage,
    },
  }),
);
