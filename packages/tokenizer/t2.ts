import { REFERENCE_TOKENIZERS, referenceTokenizerPath } from './test/support/reference-tokenizers.ts';
import { Tokenizer } from './src/index.ts';
import { createRequire } from 'node:module';
const require = createRequire('/work/main/packages/tokenizer/package.json');
const hf = require('tokenizers');
const texts = ["hello world, it's 12345 ok\n  def f(x):\n\treturn x  \n\n", "I'LL 'ſ café 中文 😀 \u0085 \ufeff x<|endoftext|>y <mask> SINGLEWORD aSINGLEWORD", "  \r\n\r\n   x\u00a0y"];
for (const spec of REFERENCE_TOKENIZERS) {
  let t0 = Date.now();
  const path = referenceTokenizerPath(spec);
  const ours = Tokenizer.fromFile(path);
  const ref = hf.Tokenizer.fromFile(path);
  console.log(spec.name, 'built+loaded', Date.now() - t0, 'ms');
  for (const text of texts) {
    const a = ours.encode(text);
    const b = Array.from((await ref.encode(text)).getIds());
    const same = JSON.stringify(a) === JSON.stringify(b);
    if (!same) console.log(' DIFF', JSON.stringify(text), '\n  ours', JSON.stringify(a), '\n  hf  ', JSON.stringify(b));
    const d1 = ours.decode(a), d2 = await ref.decode(b, false);
    if (d1 !== d2) console.log(' DECODE DIFF', JSON.stringify(d1), JSON.stringify(d2));
  }
}
