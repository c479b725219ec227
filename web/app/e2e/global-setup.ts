// Starts two `dumper serve` processes (plain, and with ADMIN_USER/ADMIN_PASS) on free ports with
// their own temporary SQLITE_PATH and BACKUP_DIR, serving web/public. The specs seed their own
// databases and targets (e2e/fixtures.ts). The returned function is the global teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { ADMIN, REPO, WEB_PUBLIC, PYTHON } from './env'

const DUMPER = path.join(REPO, '.venv', 'bin', 'dumper')

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

interface Server {
  proc: ChildProcess
  url: string
  dir: string
  log: string
}

async function startServer(name: string, root: string, extraEnv: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const dir = path.join(root, name)
  mkdirSync(path.join(dir, 'app'), { recursive: true })
  mkdirSync(path.join(dir, 'backups'), { recursive: true })
  const log = path.join(dir, 'server.log')
  const out = createWriteStream(log)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    APP_HOST: '127.0.0.1',
    APP_PORT: String(port),
    SQLITE_PATH: path.join(dir, 'app', 'app.db'),
    BACKUP_DIR: path.join(dir, 'backups'),
    WEB_DIR: WEB_PUBLIC,
    APP_ENC_KEY: '', // empty = unset: the service generates its key file beside app.db
    ADMIN_USER: '',
    ADMIN_PASS: '',
    LOG_LEVEL: 'INFO',
    ...extraEnv,
  }
  const proc = spawn(DUMPER, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout?.pipe(out)
  proc.stderr?.pipe(out)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break
    try {
      const res = await fetch(`${url}/readyz`)
      if (res.ok) return { proc, url, dir, log }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  proc.kill('SIGKILL')
  throw new Error(`dumper serve (${name}) did not become ready:\n${readFileSync(log, 'utf8').slice(-3000)}`)
}

async function stopServer(server: Server): Promise<void> {
  if (server.proc.exitCode !== null) return
  const exited = new Promise<void>((resolve) => server.proc.once('exit', () => resolve()))
  server.proc.kill('SIGTERM')
  const timer = setTimeout(() => server.proc.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(DUMPER)) throw new Error(`${DUMPER} is missing: run \`make install\` first`)
  if (!existsSync(path.join(WEB_PUBLIC, 'index.html'))) {
    throw new Error(`${WEB_PUBLIC}/index.html is missing: run \`npm run build\` first`)
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'dumper-e2e-'))

  const servers: Server[] = []
  try {
    const plain = await startServer('plain', root, {})
    servers.push(plain)
    const auth = await startServer('auth', root, { ADMIN_USER: ADMIN.user, ADMIN_PASS: ADMIN.pass })
    servers.push(auth)
    // Read by the specs through e2e/env.ts (workers inherit the environment).
    process.env.E2E_URL = plain.url
    process.env.E2E_DIR = plain.dir
    process.env.E2E_AUTH_URL = auth.url
  } catch (err) {
    await Promise.all(servers.map(stopServer))
    throw err
  }

  return async () => {
    await Promise.all(servers.map(stopServer))
    if (!process.env.E2E_KEEP) rmSync(root, { recursive: true, force: true })
    else console.log(`e2e: kept ${root} (python: ${PYTHON})`)
  }
}
