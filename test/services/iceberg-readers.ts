import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from './errors.js';
import { cacheDir, makeServiceTempDir } from './paths.js';
import { progress, runCommand } from './process.js';

/** What the readers are installed from: Iceberg's Python library and DuckDB with its extensions (PyPI). */
const PACKAGES = [
  'pyiceberg[sql-sqlite,pyarrow]',
  'duckdb',
  'duckdb-extension-iceberg',
  'duckdb-extension-avro',
  'duckdb-extension-httpfs',
  // DuckDB's Python client needs it to hand out TIMESTAMPTZ values.
  'pytz',
];

const venvDir = join(cacheDir, 'iceberg-venv');
const python = join(venvDir, 'bin', 'python');

/**
 * A Python with pyiceberg and DuckDB (and DuckDB's iceberg, avro and httpfs extensions), in `.cache/iceberg-venv`,
 * created with pip on first use. The readers check what heapstream writes; nobody here wrote them.
 *
 * @example
 * const py = await ensureIcebergReaders(); // '<repo>/.cache/iceberg-venv/bin/python'
 */
export async function ensureIcebergReaders(): Promise<string> {
  if (existsSync(join(venvDir, 'ready'))) return python;
  const staging = `${venvDir}.partial-${process.pid}`;
  progress('Iceberg readers not cached: creating a Python venv with pyiceberg and DuckDB from PyPI…');
  try {
    await runCommand('python3', ['-m', 'venv', staging], { what: 'creating a Python venv' });
    await runCommand(join(staging, 'bin', 'python'), ['-m', 'pip', 'install', '-q', ...PACKAGES], {
      what: 'installing pyiceberg and DuckDB with pip',
    });
    writeFileSync(join(staging, 'ready'), '');
    try {
      renameSync(staging, venvDir);
    } catch (err) {
      if (!existsSync(join(venvDir, 'ready'))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!existsSync(python)) throw new ServiceError(`no Python in ${venvDir} after pip install`);
  return python;
}

/**
 * Runs a Python script with the readers' venv; the script writes its answer as JSON to the path in
 * `sys.argv[1]`, which is returned parsed. Further `args` follow.
 */
export async function runReader(script: string, args: readonly string[] = []): Promise<unknown> {
  const py = await ensureIcebergReaders();
  const dir = makeServiceTempDir('iceberg-reader');
  try {
    const scriptPath = join(dir, 'read.py');
    const outPath = join(dir, 'out.json');
    writeFileSync(scriptPath, script);
    await runCommand(py, [scriptPath, outPath, ...args], { what: 'running an Iceberg reader' });
    return JSON.parse(readFileSync(outPath, 'utf8')) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `LOAD '<path>'` statements for DuckDB's extensions from the pip packages (DuckDB cannot download them here). */
export const DUCKDB_LOAD_EXTENSIONS = `
import duckdb, glob, os, sys
def duckdb_with_extensions():
    con = duckdb.connect()
    base = os.path.dirname(os.path.dirname(duckdb.__file__))
    for name in ('avro', 'httpfs', 'iceberg'):
        path = glob.glob(os.path.join(base, f'duckdb_extension_{name}', 'extensions', '*', f'{name}.duckdb_extension'))[0]
        con.execute(f"LOAD '{path}'")
    return con
`;
