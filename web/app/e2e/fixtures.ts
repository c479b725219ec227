// The `test` every spec uses: baseURL of the plain server from the global setup, English UI, and
// `seed`, which makes a test's own databases, targets and backups through the real API and removes
// them afterwards, so each test runs alone (`-g`) or in any order.
import { test as base, expect, type APIRequestContext } from '@playwright/test'
import { DB_SERVER, dbTool, state, uniqueName } from './env'

export interface SeededTarget {
  id: number
  name: string
  database: string
}

export interface SeededBackup {
  id: number
  file_name: string
  status: string
}

export interface Seed {
  /** A name for a target this test creates itself (removed afterwards like a seeded one). */
  name(): string
  /** A fresh scratch database (customers 50 rows, orders 2000), dropped afterwards. */
  database(): string
  /** A target on its own fresh database (so its jobs clash with no other test's). */
  target(): Promise<SeededTarget>
  /** A finished, successful backup of the target, taken through the API. */
  backup(target: SeededTarget): Promise<SeededBackup>
}

/** Calls the API and expects a 2xx; returns the JSON body. */
export async function call<T>(request: APIRequestContext, method: string, url: string, data?: unknown): Promise<T> {
  const res = await request.fetch(url, { method, data })
  expect(res.ok(), `${method} ${url}: ${res.status()} ${await res.text()}`).toBeTruthy()
  return (res.status() === 204 ? undefined : await res.json()) as T
}

const PREFIX = 'e2e'

export const test = base.extend<{ seed: Seed }>({
  baseURL: async ({}, use) => {
    await use(state().url)
  },
  page: async ({ page }, use) => {
    await page.addInitScript(() => window.localStorage.setItem('dumper.locale', 'en'))
    await use(page)
  },
  seed: async ({ request }, use) => {
    const names: string[] = []
    const databases: string[] = []

    const seed: Seed = {
      name() {
        const name = uniqueName(PREFIX)
        names.push(name)
        return name
      },
      database() {
        const database = uniqueName('dumper_e2e')
        databases.push(database)
        dbTool('create', database)
        return database
      },
      async target() {
        const database = seed.database()
        const name = seed.name()
        const target = await call<{ id: number }>(request, 'POST', '/api/targets', {
          name,
          host: DB_SERVER.host,
          port: DB_SERVER.port,
          dbname: database,
          user: DB_SERVER.user,
          password: DB_SERVER.password,
          comment: 'seeded by the e2e fixture',
          schedule_time: null,
          retention_days: 14,
          auto_compress: true,
        })
        return { id: target.id, name, database }
      },
      async backup(target) {
        const started = await call<SeededBackup>(request, 'POST', `/api/targets/${target.id}/backup`)
        let backup = started
        await expect
          .poll(async () => (backup = await call<SeededBackup>(request, 'GET', `/api/backups/${started.id}`)).status, {
            timeout: 60_000,
          })
          .not.toBe('running')
        expect(backup.status).toBe('success')
        return backup
      },
    }
    await use(seed)

    // Remove what this test made, once its jobs have ended (the server refuses a busy target).
    const targets = await call<{ id: number; name: string }[]>(request, 'GET', '/api/targets')
    for (const target of targets.filter((t) => names.includes(t.name))) {
      await expect
        .poll(async () => (await call<{ target_id: number }[]>(request, 'GET', '/api/jobs')).some((j) => j.target_id === target.id), {
          timeout: 60_000,
        })
        .toBe(false)
      await call(request, 'DELETE', `/api/targets/${target.id}?with_backups=true`)
    }
    for (const database of databases) dbTool('drop', database)
  },
})

export { expect }
