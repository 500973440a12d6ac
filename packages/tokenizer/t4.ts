import { REFERENCE_TOKENIZERS, referenceTokenizerPath } from './test/support/reference-tokenizers.ts';
import { buildCodeCorpus } from './test/support/corpus.ts';
import { EDGE_CASES, fuzzStrings } from './test/support/edge-cases.ts';
import { Tokenizer } from './src/index.ts';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const hf = require('tokenizers');
const corpus = buildCodeCorpus();
const texts = [...corpus.documents.map(d => d.text), ...EDGE_CASES, ...fuzzStrings(1, 3000)];
const which = process.argv[2];
for (const spec of REFERENCE_TOKENIZERS) {
  if (which && spec.name !== which) continue;
  const path = referenceTokenizerPath(spec);
  const ours = Tokenizer.fromFile(path);
  const ref = hf.Tokenizer.fromFile(path);
  let t0 = performance.now();
  const a = texts.map(t => ours.encode(t));
  const tOurs = performance.now() - t0;
  t0 = performance.now();
  const b = (await ref.encodeBatch(texts)).map((e: any) => Array.from(e.getIds()) as number[]);
  const tHf = performance.now() - t0;
  let bad = 0;
  for (let i = 0; i < texts.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.length !== y.length || x.some((v, k) => v !== y[k])) {
      bad++;
      if (bad <= 3) {
        let k = 0; while (x[k] === y[k]) k++;
        console.log(' MISMATCH', i < corpus.documents.length ? corpus.documents[i]!.path : JSON.stringify(texts[i]).slice(0, 200), 'at token', k,
          JSON.stringify(ours.decode(x.slice(Math.max(0, k - 3), k + 3))), x.slice(k, k + 4), y.slice(k, k + 4));
      }
    }
  }
  console.log(spec.name, 'texts', texts.length, 'mismatches', bad, 'ours ms', tOurs.toFixed(0), 'hf ms', tHf.toFixed(0), 'warnings', ours.warnings.length);
}
