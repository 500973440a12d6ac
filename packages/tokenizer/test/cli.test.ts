import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.ts';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageDir, 'src', 'cli.ts');
const work = mkdtempSync(join(tmpdir(), 'linewise-cli-'));
const tokenizerPath = join(work, 'tokenizer.json');

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: packageDir,
    input,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const trained = run(['train', '--out', tokenizerPath, '--vocab-size', '1200']);
  expect(trained.stderr).toMatch(/merge: \d+\/\d+ merges \(\d+\/s/);
  expect(trained.code).toBe(0);
});

describe('linewise-tokenize', () => {
  it('train writes a tokenizer from the bundled corpus and reports its compression', () => {
    const tokenizer = Tokenizer.fromFile(tokenizerPath);
    expect(tokenizer.vocabSize).toBe(1200);
    expect(tokenizer.tokenToId('<|endoftext|>')).toBe(0);
    const again = run(['train', '--out', join(work, 'again.json'), '--vocab-size', '1200']);
    expect(again.stdout).toMatch(/820 documents/);
    expect(again.stdout).toMatch(/compression on the training corpus: \d\.\d\d bytes per token/);
    expect(again.stdout).toMatch(/round trip: 820\/820 documents/);
    expect(readFileSync(join(work, 'again.json'), 'utf8')).toBe(readFileSync(tokenizerPath, 'utf8'));
  });

  it('encode and decode round-trip through stdin and flags', () => {
    const text = 'def add(a, b):\n    return a + b\n';
    const encoded = run(['encode', '--tokenizer', tokenizerPath], text);
    expect(encoded.code).toBe(0);
    const ids = JSON.parse(encoded.stdout) as number[];
    expect(ids).toEqual(Tokenizer.fromFile(tokenizerPath).encode(text));
    const decoded = run(['decode', '--tokenizer', tokenizerPath, '--ids', ids.join(',')]);
    expect(decoded.stdout).toBe(text);
    expect(run(['decode', '--tokenizer', tokenizerPath], JSON.stringify(ids)).stdout).toBe(text);
    const tokens = run([
      'encode',
      '--tokenizer',
      tokenizerPath,
      '--format',
      'tokens',
      '--text',
      'def f',
    ]).stdout;
    expect(
      tokens
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l.split('\t')[1] as string))
        .join(''),
    ).toBe('def f');
  });

  it('count reports tokens and bytes per file', () => {
    const file = join(work, 'sample.py');
    writeFileSync(file, 'import os\nprint(os.getcwd())\n');
    const counted = run(['count', '--tokenizer', tokenizerPath, '--json', file]);
    const report = JSON.parse(counted.stdout) as { total: { tokens: number; bytes: number } };
    expect(report.total.bytes).toBe(29);
    expect(report.total.tokens).toBe(
      Tokenizer.fromFile(tokenizerPath).encode('import os\nprint(os.getcwd())\n').length,
    );
  });

  it('explains itself with --help', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('linewise-tokenize train');
    for (const command of ['encode', 'decode', 'count', 'train']) {
      const page = run([command, '--help']);
      expect(page.code).toBe(0);
      expect(page.stdout).toContain(`linewise-tokenize ${command}:`);
      expect(page.stdout).toContain('Options:');
    }
  });

  it('fails with a one-line message, not a stack trace, on bad input', () => {
    const unknownId = run(['decode', '--tokenizer', tokenizerPath, '--ids', '5,99999']);
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr.trim()).toBe(
      'linewise-tokenize decode: token id 99999 at position 1 is not in the vocabulary (ids are integers in [0, 1200))',
    );
    const missing = run(['encode', '--tokenizer', join(work, 'missing.json'), '--text', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.json: cannot read file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const usage = run(['train', '--vocab-size', 'many']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--vocab-size must be an integer/);
    expect(run(['frobnicate']).code).toBe(2);
    expect(run(['decode', '--tokenizer', tokenizerPath, '--ids', '1,x']).stderr).toMatch(
      /id 2 \("x"\) is not a non-negative integer/,
    );
  });
});
