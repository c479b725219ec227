// Test helpers: a fetch stand-in that routes "METHOD /path" to canned answers and records calls,
// fixtures shaped like docs/API.md, and mounting a page with a real router and a fresh Pinia.
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { vi } from 'vitest'
import { createMemoryHistory, type Router } from 'vue-router'
import App from '@/App.vue'
import { createAppRouter, installUnauthorizedRedirect } from '@/router'
import type { Backup, Job, Settings, Target } from '@/services/api'

export interface Call {
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
}

export type Answer =
  | { status?: number; body?: unknown; text?: string; headers?: Record<string, string> }
  | ((call: Call) => Answer)

export interface FetchMock {
  calls: Call[]
  on(route: string, answer: Answer): FetchMock
  callsTo(route: string): Call[]
}

/** Stubs global fetch. Routes are "METHOD /path" (query string included when given). */
export function mockFetch(routes: Record<string, Answer> = {}): FetchMock {
  const table = new Map<string, Answer>(Object.entries(routes))
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input)
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = { ...(init.headers as Record<string, string>) }
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined
    const call: Call = { method, url, headers, body }
    calls.push(call)
    let answer = table.get(`${method} ${url}`) ?? table.get(`${method} ${url.split('?')[0]}`)
    if (answer === undefined) {
      answer = { status: 404, body: { error: { code: 'not_found', message: `no mock for ${method} ${url}` } } }
    }
    while (typeof answer === 'function') answer = answer(call)
    const status = answer.status ?? 200
    const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body))
    return new Response(status === 204 || method === 'HEAD' ? null : text, {
      status,
      headers: { 'Content-Type': 'application/json', ...answer.headers },
    })
  })
  vi.stubGlobal('fetch', fn)
  const mock: FetchMock = {
    calls,
    on(route, answer) {
      table.set(route, answer)
      return mock
    },
    callsTo(route) {
      const [m, p] = route.split(' ')
      return calls.filter((c) => c.method === m && c.url === p)
    },
  }
  return mock
}

export function makeTarget(over: Partial<Target> = {}): Target {
  return {
    id: 1,
    name: 'shop',
    host: 'db.lan',
    port: 3306,
    dbname: 'shopdb',
    user: 'backup',
    comment: '',
    schedule_time: '03:00',
    retention_days: 14,
    auto_compress: true,
    notify: true,
    ping_url: null,
    keep_last: 0,
    keep_daily: 0,
    keep_weekly: 0,
    keep_monthly: 0,
    keep_yearly: 0,
    schedule_kind: 'daily',
    schedule_every_hours: 6,
    schedule_minute: 0,
    schedule_weekdays: [],
    verify_after_backup: false,
    strict: false,
    parallel_connections: 1,
    exclude: '',
    tls: 'preferred',
    tls_ca: '',
    tls_cert: '',
    has_tls_key: false,
    encryption: 'off',
    age_recipient: '',
    has_age_passphrase: false,
    created_at: '2026-11-26T10:00:00Z',
    updated_at: '2026-11-26T10:00:00Z',
    has_password: true,
    password_error: null,
    next_run_at: '2026-11-27T03:00:00Z',
    last_backup_status: 'success',
    last_backup_at: '2026-11-26T03:00:05Z',
    last_backup_size_bytes: 123456,
    last_backup_warnings: 0,
    last_success_at: '2026-11-26T03:00:05Z',
    last_success_size_bytes: 123456,
    stale: false,
    running_job: null,
    last_verification: null,
    ...over,
  }
}

export function makeBackup(over: Partial<Backup> = {}): Backup {
  return {
    id: 5,
    target_id: 1,
    target_name: 'shop',
    status: 'success',
    trigger: 'manual',
    started_at: '2026-11-26T03:00:00Z',
    finished_at: '2026-11-26T03:00:03Z',
    duration_seconds: 3.2,
    file_name: 'shop_2026-11-26_03-00-00.sql.gz',
    file_exists: true,
    size_bytes: 123456,
    sha256: 'ab12'.repeat(16),
    tables: 16,
    rows: 47000,
    notes: '',
    warnings: [],
    error_code: null,
    progress: null,
    verification: null,
    file_check: null,
    encrypted: false,
    databases: null,
    ...over,
  }
}

export function makeJob(over: Partial<Job> = {}): Job {
  return {
    kind: 'backup',
    id: 9,
    target_id: 1,
    target_name: 'shop',
    started_at: '2026-11-26T03:00:00Z',
    progress: { bytes_written: 1000, rows: 200, table: 'film', tables_done: 3, tables_total: 12 },
    ...over,
  }
}

export function makeSettings(over: Partial<Settings> = {}): Settings {
  return {
    version: '0.1.0',
    config: {
      app_port: 8080,
      sqlite_path: '/data/app/app.db',
      backup_dir: '/data/backups',
      web_dir: '/app/web/public',
      max_parallel_jobs: 2,
      log_level: 'INFO',
      enc_key_source: 'file',
    },
    auth_enabled: false,
    open_access: false,
    disk: { total_bytes: 1000 * 1024 ** 3, used_bytes: 400 * 1024 ** 3, free_bytes: 600 * 1024 ** 3, backups_bytes: 5 * 1024 ** 2 },
    scheduler: { running: true, last_tick_at: '2026-11-26T10:00:00Z' },
    jobs: { running: 0, max_parallel: 2 },
    unknown_files: [],
    file_check: {
      interval_hours: 168,
      running: false,
      last_started_at: null,
      last_finished_at: null,
      next_run_at: '2026-12-03T10:00:00Z',
      checked: 0,
      corrupt: 0,
      missing: 0,
    },
    ...over,
  }
}

export interface Mounted {
  wrapper: ReturnType<typeof mount>
  router: Router
  pinia: Pinia
}

/** Mounts the whole app (nav, page, toasts) at `path`, as a visitor following a deep link. */
export async function mountApp(path: string): Promise<Mounted> {
  const pinia = createPinia()
  setActivePinia(pinia)
  const router = createAppRouter(createMemoryHistory())
  installUnauthorizedRedirect(router, pinia)
  await router.push(path)
  await router.isReady()
  const wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router, pinia }
}

/** Finds a button by its visible text (the way a user and e2e find it). */
export function button(wrapper: { findAll: (s: string) => Array<{ text: () => string }> }, name: string) {
  const found = wrapper.findAll('button').filter((b) => b.text().trim() === name)
  if (found.length === 0) throw new Error(`no button "${name}"`)
  return found[0] as unknown as import('@vue/test-utils').DOMWrapper<HTMLButtonElement>
}

export function buttons(wrapper: { findAll: (s: string) => Array<{ text: () => string }> }, name: string) {
  return wrapper.findAll('button').filter((b) => b.text().trim() === name) as unknown as Array<
    import('@vue/test-utils').DOMWrapper<HTMLButtonElement>
  >
}
