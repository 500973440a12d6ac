import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLAVOUR_NAMES, Tokenizer, TokenizerInputError, trainBpe } from '../src/index.ts';
import { buildCodeCorpus } from './support/corpus.ts';
import { EDGE_CASES, fuzzStrings, seededRandom } from './support/edge-cases.ts';
import { hfEncodeAll, hfFromFile } from './support/hf.ts';

let training: string[];
let evaluation: string[];

beforeAll(() => {
  const corpus = buildCodeCorpus();
  const documents = corpus.documents.map((d) => d.text);
  training = documents.filter((_, i) => i % 4 === 0);
  evaluation = [...documents, ...EDGE_CASES, ...fuzzStrings(99, 1000)];
});

describe('trainBpe', () => {
  it('learns the merges worked out by hand on a tiny corpus', () => {
    // Words (GPT-2 pre-tokenizer): "aaab", " aaab", " ab". Pair counts: a+a 4, a+b 3, Ġ+a 2 -> merge a+a;
    // then a+b 3 (aa+a 2) -> merge a+b; then aa+ab 2 -> merge; every pair left occurs once.
    const tokenizer = trainBpe(['aaab aaab ab'], {
      vocabSize: 1000,
      preTokenizer: 'gpt2',
      specialTokens: [],
    });
    const model = (tokenizer.toJSON() as { model: { merges: string[][] } }).model;
    expect(model.merges).toEqual([
      ['a', 'a'],
      ['a', 'b'],
      ['aa', 'ab'],
    ]);
    expect(tokenizer.vocabSize).toBe(256 + 3);
    expect(tokenizer.encode('aaab')).toEqual([tokenizer.tokenToId('aaab')]);
    expect(tokenizer.encode(' ab').map((id) => tokenizer.idToToken(id))).toEqual(['Ġ', 'ab']);
  });

  it('gives special tokens the first ids and keeps them whole', () => {
    const tokenizer = trainBpe(training.slice(0, 20), {
      vocabSize: 400,
      specialTokens: ['<|endoftext|>', '<pad>'],
    });
    expect(tokenizer.tokenToId('<|endoftext|>')).toBe(0);
    expect(tokenizer.tokenToId('<pad>')).toBe(1);
    expect(tokenizer.isSpecial(0)).toBe(true);
    expect(tokenizer.encode('x<|endoftext|>y')).toContain(0);
    expect(tokenizer.decode(tokenizer.encode('x<|endoftext|>y'), { skipSpecialTokens: true })).toBe('xy');
  });

  it('fills the vocabulary exactly when the corpus allows, and stops at minFrequency', () => {
    const full = trainBpe(training, { vocabSize: 2000 });
    expect(full.vocabSize).toBe(2000);
    const none = trainBpe(training, { vocabSize: 2000, minFrequency: 1e12, specialTokens: ['<s>'] });
    expect(none.vocabSize).toBe(257);
  });

  it('is deterministic: the same corpus and options give the same tokenizer.json', () => {
    const a = trainBpe(training.slice(0, 50), { vocabSize: 800, preTokenizer: 'llama3' });
    const b = trainBpe(training.slice(0, 50), { vocabSize: 800, preTokenizer: 'llama3' });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
  });

  it('compresses held-out code better than bytes', () => {
    const tokenizer = trainBpe(training, { vocabSize: 3000 });
    const heldOut = evaluation.filter((_, i) => i % 4 === 1 && i < 576);
    const bytes = heldOut.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const tokens = heldOut.reduce((n, t) => n + tokenizer.encode(t).length, 0);
    expect(bytes / tokens).toBeGreaterThan(2.5);
  });

  it('rejects bad options and documents with typed errors', () => {
    expect(() => trainBpe(['x'], { vocabSize: 100 })).toThrow(TokenizerInputError);
    expect(() => trainBpe(['x'], { vocabSize: 300.5 })).toThrow(/vocabSize must be an integer/);
    expect(() => trainBpe(['ok', 42 as unknown as string], { vocabSize: 300 })).toThrow(
      /corpus document 1 is number/,
    );
    expect(() => trainBpe(['x'], { vocabSize: 300, preTokenizer: 'nope' as 'gpt2' })).toThrow(
      /unknown tokenizer flavour "nope"/,
    );
  });
});

describe.each(FLAVOUR_NAMES.map((name) => [name] as const))(
  'a tokenizer trained with the %s pre-tokenizer',
  (flavour) => {
    let path: string;
    let ours: Tokenizer;
    beforeAll(() => {
      const dir = mkdtempSync(join(tmpdir(), 'linewise-trained-'));
      path = join(dir, 'tokenizer.json');
      trainBpe(training, {
        vocabSize: 3000,
        preTokenizer: flavour,
        specialTokens: ['<|endoftext|>', '<fim_prefix>'],
      }).save(path);
      expect(readdirSync(dir)).toEqual(['tokenizer.json']);
      ours = Tokenizer.fromFile(path);
    });

    it('is loaded by HF, which encodes the corpus exactly as we do', async () => {
      const reference = hfFromFile(path);
      const theirs = await hfEncodeAll(reference, evaluation);
      const mismatch = evaluation.findIndex(
        (t, i) => JSON.stringify(ours.encode(t)) !== JSON.stringify(theirs[i]),
      );
      expect(mismatch, `first mismatch: ${JSON.stringify(evaluation[mismatch]?.slice(0, 80))}`).toBe(-1);
    });

    it('decodes random id sequences exactly as HF does', async () => {
      const reference = hfFromFile(path);
      const random = seededRandom(3);
      for (let i = 0; i < 300; i++) {
        const ids = Array.from({ length: 1 + Math.floor(random() * 16) }, () =>
          Math.floor(random() * ours.vocabSize),
        );
        expect(ours.decode(ids)).toBe(await reference.decode(ids, false));
      }
    });

    it('saves a file that loads back to the same tokenizer', () => {
      const again = Tokenizer.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
      for (const t of EDGE_CASES) expect(again.encode(t)).toEqual(ours.encode(t));
    });
  },
);
