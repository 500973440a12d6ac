import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/**
 * A corpus of real source code in several languages, gathered from files every machine of this
 * project has: the Python standard library, C headers, and the pinned TypeScript and JavaScript of
 * our own dev dependencies. Files are taken in sorted order up to a per-language budget, so the
 * corpus is the same wherever the same versions are installed; `fingerprint` identifies it.
 */
export interface CorpusDocument {
  language: string;
  path: string;
  text: string;
}

export interface Corpus {
  documents: CorpusDocument[];
  bytes: number;
  byLanguage: Record<string, number>;
  fingerprint: string;
}

interface Source {
  language: string;
  root: string | undefined;
  extensions: string[];
  budget: number;
}

const MAX_FILE_BYTES = 200_000;

function pythonStdlib(): string | undefined {
  try {
    const out = execFileSync(
      'python3',
      ['-I', '-S', '-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

function packageDir(name: string): string | undefined {
  for (const from of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      return dirname(createRequire(from).resolve(`${name}/package.json`));
    } catch {
      // try the next base
    }
  }
  return undefined;
}

function listFiles(root: string, extensions: string[]): string[] {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => extensions.some((e) => f.endsWith(e)) && !f.split('/').includes('node_modules'))
    .sort();
  return files.map((f) => join(root, f));
}

export function buildCodeCorpus(targetBytes = 5_500_000): Corpus {
  const sources: Source[] = [
    { language: 'python', root: pythonStdlib(), extensions: ['.py'], budget: 0.3 },
    { language: 'typescript', root: packageDir('@types/node'), extensions: ['.d.ts'], budget: 0.25 },
    {
      language: 'typescript',
      root: packageDir('typescript') && join(packageDir('typescript') as string, 'lib'),
      extensions: ['.d.ts'],
      budget: 0.1,
    },
    { language: 'javascript', root: packageDir('vitest'), extensions: ['.js', '.mjs'], budget: 0.2 },
    {
      language: 'c',
      root: existsSync('/usr/include') ? '/usr/include' : undefined,
      extensions: ['.h'],
      budget: 0.2,
    },
    { language: 'markdown', root: packageDir('vite'), extensions: ['.md'], budget: 0.02 },
    { language: 'javascript', root: packageDir('gpt-tokenizer'), extensions: ['.js'], budget: 0.1 },
  ];
  const documents: CorpusDocument[] = [];
  const byLanguage: Record<string, number> = {};
  let bytes = 0;
  const hash = createHash('sha256');
  for (const source of sources) {
    if (!source.root || !existsSync(source.root)) continue;
    let taken = 0;
    const budget = source.budget * targetBytes;
    for (const file of listFiles(source.root, source.extensions)) {
      if (taken >= budget) break;
      const size = statSync(file).size;
      if (size === 0 || size > MAX_FILE_BYTES) continue;
      const text = readFileSync(file, 'utf8');
      const path = relative(source.root, file);
      documents.push({ language: source.language, path, text });
      hash.update(path).update(text);
      const n = Buffer.byteLength(text);
      taken += n;
      bytes += n;
      byLanguage[source.language] = (byLanguage[source.language] ?? 0) + n;
    }
  }
  return { documents, bytes, byLanguage, fingerprint: hash.digest('hex').slice(0, 16) };
}
