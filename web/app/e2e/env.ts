// Where things are, and the test server's connection, shared by the global setup and the specs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO = path.resolve(HERE, '..', '..', '..')
export const WEB_PUBLIC = path.join(REPO, 'web', 'public')
export const PYTHON = path.join(REPO, '.venv', 'bin', 'python')
const DB_TOOL = path.join(HERE, 'db.py')

export const ADMIN = { user: 'admin', pass: 'e2e-Secret-pass' }

// The same server the Python tests use (DUMPER_TEST_DSN), as form fields for a target.
const dsn = new URL(process.env.DUMPER_TEST_DSN || 'mysql://root@127.0.0.1:3306/test')
export const DB_SERVER = {
  host: dsn.hostname,
  port: Number(dsn.port || 3306),
  user: decodeURIComponent(dsn.username),
  password: decodeURIComponent(dsn.password) || process.env.MYSQL_PWD || '',
}

/** Run e2e/db.py (PyMySQL through the repo's venv) and return its stdout. */
export function dbTool(...args: string[]): string {
  return execFileSync(PYTHON, [DB_TOOL, ...args], { encoding: 'utf8', cwd: REPO })
}

/** Rows of a query against one of the scratch databases. */
export function query<T = unknown[]>(database: string, sql: string): T[] {
  return JSON.parse(dbTool('query', database, sql)) as T[]
}

export function exec(database: string, sql: string): void {
  dbTool('exec', database, sql)
}

/** Make every backup of one target on the plain server look `days` old (its rows and file times). */
export function ageBackups(targetId: number, days: number): void {
  const s = state()
  execFileSync(PYTHON, [DB_TOOL, 'age-backups', path.join(s.dir, 'app', 'app.db'), String(days), String(targetId)], {
    encoding: 'utf8',
    env: { ...process.env, BACKUP_DIR: path.join(s.dir, 'backups') },
  })
}

/** Hold a write lock on `table` until release() is called, so a backup visibly waits. */
export async function lockTable(database: string, table: string): Promise<{ release: () => Promise<void> }> {
  const child: ChildProcess = spawn(PYTHON, [DB_TOOL, 'lock', database, table], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: REPO,
  })
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock helper exited with ${code}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve()
    })
  })
  return {
    release: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit')
        child.once('exit', () => resolve())
        child.stdin?.end()
      }),
  }
}

export function state(): { url: string; dir: string; authUrl: string } {
  const { E2E_URL, E2E_DIR, E2E_AUTH_URL } = process.env
  if (!E2E_URL || !E2E_DIR || !E2E_AUTH_URL) {
    throw new Error('e2e state missing: run through `npm run test:e2e` (global setup)')
  }
  return { url: E2E_URL, dir: E2E_DIR, authUrl: E2E_AUTH_URL }
}

let made = 0

/** A name no other test of any run uses (targets, databases): process, time and a counter. */
export function uniqueName(prefix: string): string {
  made++
  return `${prefix}_${process.pid.toString(36)}${Date.now().toString(36)}_${made}`
}
