#!/usr/bin/env node
// Builds the optional OpenBLAS accelerator (native/) when the system has OpenBLAS's header and library.
// Runs as the package's `install` script: it prints one line and always exits 0, because without the
// addon linewise runs on pure wasm and a failed native build must never fail an install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PREFIX = '@linewise/kernels native BLAS:';
const nativeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const logFile = join(nativeDir, 'build', 'build.log');
const INCLUDE_ROOTS = ['/usr/include', '/usr/local/include', '/opt/homebrew/opt/openblas/include'];
const LIBRARY_ROOTS = ['/usr/lib', '/usr/lib64', '/usr/local/lib', '/opt/homebrew/opt/openblas/lib'];
const LIBRARY_NAMES = ['libopenblas.so', 'libopenblas.dylib'];

try {
  console.log(`${PREFIX} ${build()}`);
} catch (error) {
  console.log(`${PREFIX} skipped (${error instanceof Error ? error.message : String(error)})`);
}
process.exit(0);

function build() {
  if (process.env.LINEWISE_NATIVE === '0') return 'skipped (LINEWISE_NATIVE=0)';
  // Only OpenBLAS's own cblas.h declares the thread and config functions the addon calls.
  const header = findFile(INCLUDE_ROOTS, 3, (path) => path.endsWith('/cblas.h') && declaresOpenblas(path));
  if (header === undefined) {
    return 'skipped (no OpenBLAS cblas.h under /usr/include or /usr/local/include; apt-get install libopenblas-dev)';
  }
  const library = findFile(LIBRARY_ROOTS, 2, (path) =>
    LIBRARY_NAMES.some((name) => path.endsWith(`/${name}`)),
  );
  if (library === undefined) return 'skipped (no libopenblas.so found; apt-get install libopenblas-dev)';
  if (upToDate()) return 'up to date (native/build/Release/linewise_blas.node)';
  const nodeGyp = findNodeGyp();
  if (nodeGyp === undefined)
    return 'skipped (node-gyp not found: neither npm_config_node_gyp nor npm/pnpm bundled)';

  const args = [nodeGyp, 'rebuild'];
  const nodeDir = findNodeDir();
  if (nodeDir !== undefined) args.push(`--nodedir=${nodeDir}`);
  args.push('--', `-Dblas_include_dir=${dirname(header)}`, `-Dblas_library_dir=${dirname(library)}`);
  const result = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', timeout: 300_000 });
  const log = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, log);
  if (result.status !== 0) {
    const reason =
      log
        .split('\n')
        .find((line) => /error/i.test(line))
        ?.trim() ?? `node-gyp exit ${result.status}`;
    return `failed, using wasm only (${reason.slice(0, 160)}; full log: ${logFile})`;
  }
  return `built native/build/Release/linewise_blas.node (${header}, ${library})`;
}

/** pnpm runs install scripts of workspace packages on every install: skip the rebuild when nothing changed. */
function upToDate() {
  const addon = join(nativeDir, 'build', 'Release', 'linewise_blas.node');
  if (!existsSync(addon)) return false;
  const built = statSync(addon).mtimeMs;
  const sources = [join(nativeDir, 'binding.gyp'), join(nativeDir, 'linewise_blas.c')];
  return sources.every((source) => statSync(source).mtimeMs <= built);
}

/** Breadth-first search to `depth` folder levels below each root, so system defaults win over variants. */
function findFile(roots, depth, matches) {
  let level = roots.filter((root) => existsSync(root));
  for (let d = 0; d <= depth && level.length > 0; d++) {
    const next = [];
    for (const folder of level) {
      let entries;
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) next.push(path);
        else if (matches(path)) return path;
      }
    }
    level = next;
  }
  return undefined;
}

function declaresOpenblas(path) {
  try {
    return readFileSync(path, 'utf8').includes('openblas_set_num_threads');
  } catch {
    return false;
  }
}

/** npm and pnpm set npm_config_node_gyp for lifecycle scripts; both also bundle node-gyp. */
function findNodeGyp() {
  const prefix = resolve(dirname(process.execPath), '..');
  const candidates = [
    process.env.npm_config_node_gyp,
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(prefix, 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  return candidates.find((path) => path !== undefined && path !== '' && existsSync(path));
}

/** Node's own headers (installed with it, e.g. /usr/include/node) keep node-gyp from downloading them. */
function findNodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured !== undefined && configured !== '') return configured;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/common.gypi')) ? prefix : undefined;
}
