import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { translate, type MessageKey, type Params } from '@/i18n'
import { errorText } from '@/i18n/errors'
import { ApiError, credentials } from '@/services/api'
import { makeBackup, makeJob, makeSettings, makeTarget, mockFetch } from '@/test/helpers'
import {
  POLL_MS,
  useAuthStore,
  useBackupsStore,
  useJobsStore,
  usePrefsStore,
  useSettingsStore,
  useTargetsStore,
  useToastStore,
} from '.'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.useRealTimers())

describe('toasts store', () => {
  it('shows a success toast and removes it after its time', () => {
    vi.useFakeTimers()
    const toasts = useToastStore()
    toasts.success('saved')
    expect(toasts.toasts).toEqual([{ id: 1, kind: 'success', message: 'saved', count: 1 }])
    vi.advanceTimersByTime(3999)
    expect(toasts.toasts).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(toasts.toasts).toHaveLength(0)
  })

  it('keeps errors longer and says what failed and why', () => {
    vi.useFakeTimers()
    const toasts = useToastStore()
    toasts.error(new ApiError(409, 'conflict', 'a job is running'), 'shop')
    expect(toasts.toasts[0]).toMatchObject({ kind: 'error', message: 'shop: Not possible right now: a job is running' })
    vi.advanceTimersByTime(5000)
    expect(toasts.toasts).toHaveLength(1)
  })

  it('merges a repeated message into the toast already shown, counting it and restarting its time', () => {
    vi.useFakeTimers()
    const toasts = useToastStore()
    const refused = new ApiError(409, 'conflict', 'the service is shutting down')
    const first = toasts.error(refused, 'shop')
    vi.advanceTimersByTime(5000)
    expect(toasts.error(refused, 'shop')).toBe(first)
    toasts.error(refused, 'shop')
    expect(toasts.toasts).toHaveLength(1)
    expect(toasts.toasts[0]!.count).toBe(3)
    vi.advanceTimersByTime(8999)
    expect(toasts.toasts).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(toasts.toasts).toHaveLength(0)
  })

  it('does not toast a 401: the login form is the answer to it', () => {
    const toasts = useToastStore()
    expect(toasts.error(new ApiError(401, 'unauthorized', 'login'))).toBeNull()
    expect(toasts.toasts).toHaveLength(0)
  })

  it('dismisses one toast and clears all', () => {
    const toasts = useToastStore()
    const a = toasts.info('a')
    toasts.info('b')
    toasts.dismiss(a)
    expect(toasts.toasts.map((t) => t.message)).toEqual(['b'])
    toasts.clear()
    expect(toasts.toasts).toEqual([])
  })

  it('appends field errors to the message', () => {
    const t = (key: MessageKey, params?: Params) => translate('en', key, params)
    expect(errorText(new ApiError(422, 'invalid_input', 'invalid', { port: 'out of range' }), t)).toBe(
      'Some values are not valid. (Port: out of range)',
    )
    expect(errorText(new Error('boom'), t)).toBe('boom')
    expect(errorText('odd', t)).toBe('odd')
  })
})

describe('targets store', () => {
  it('loads the list and sorts it by name', async () => {
    mockFetch({ 'GET /api/targets': { body: [makeTarget({ id: 2, name: 'wiki' }), makeTarget({ id: 1, name: 'crm' })] } })
    const store = useTargetsStore()
    await store.load()
    expect(store.loaded).toBe(true)
    expect(store.sorted.map((t) => t.name)).toEqual(['crm', 'wiki'])
    expect(store.byId(2)?.name).toBe('wiki')
  })

  it('keeps the load error for the page to show', async () => {
    mockFetch({ 'GET /api/targets': { status: 500, body: { error: { code: 'internal', message: 'oops' } } } })
    const store = useTargetsStore()
    await expect(store.load()).rejects.toBeInstanceOf(ApiError)
    expect(store.error).toBeInstanceOf(ApiError)
    expect(store.loading).toBe(false)
  })

  it('creates, updates and removes targets in the list', async () => {
    mockFetch({
      'POST /api/targets': { status: 201, body: makeTarget({ id: 3, name: 'new' }) },
      'PUT /api/targets/3': { body: makeTarget({ id: 3, name: 'renamed' }) },
      'DELETE /api/targets/3': { status: 204 },
    })
    const store = useTargetsStore()
    await store.create(makeTarget())
    expect(store.targets.map((t) => t.name)).toEqual(['new'])
    await store.update(3, makeTarget())
    expect(store.targets.map((t) => t.name)).toEqual(['renamed'])
    await store.remove(3, 'delete')
    expect(store.targets).toEqual([])
  })

  it('marks a target busy while its backup request runs, then running', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    mockFetch({
      'GET /api/targets': { body: [makeTarget()] },
      'POST /api/targets/1/backup': { status: 202, body: makeBackup({ id: 11, status: 'running' }) },
    })
    const store = useTargetsStore()
    await store.load()
    const fetchFn = globalThis.fetch
    vi.stubGlobal('fetch', async (...args: Parameters<typeof fetch>) => {
      await gate
      return fetchFn(...args)
    })
    const pending = store.backupNow(1)
    expect(store.busy.has(1)).toBe(true)
    release()
    await pending
    expect(store.busy.has(1)).toBe(false)
    expect(store.byId(1)?.running_job).toEqual({ kind: 'backup', id: 11 })
  })
})

describe('backups store', () => {
  it('loads per target, removes a backup, and knows when one runs', async () => {
    mockFetch({
      'GET /api/targets/1/backups': { body: [makeBackup({ id: 6, status: 'running' }), makeBackup({ id: 5 })] },
      'DELETE /api/backups/5': { status: 204 },
      'POST /api/backups/5/restore': { status: 202, body: { id: 2, status: 'running' } },
    })
    const store = useBackupsStore()
    await store.load(1)
    expect(store.list(1).map((b) => b.id)).toEqual([6, 5])
    expect(store.anyRunning(1)).toBe(true)
    expect(store.list(2)).toEqual([])
    await store.remove(makeBackup({ id: 5 }))
    expect(store.list(1).map((b) => b.id)).toEqual([6])
    await expect(store.restore(makeBackup({ id: 5 }), 'shop')).resolves.toMatchObject({ id: 2 })
  })
})

describe('jobs store', () => {
  it('counts a finished job when it disappears from the running list', async () => {
    const f = mockFetch({ 'GET /api/jobs': { body: [makeJob()] } })
    const store = useJobsStore()
    await store.load()
    expect(store.jobs).toHaveLength(1)
    expect(store.forTarget(1)).toHaveLength(1)
    expect(store.finished).toBe(0)
    f.on('GET /api/jobs', { body: [] })
    await store.load()
    expect(store.finished).toBe(1)
  })

  it('polls while subscribed and stops when the last subscriber leaves', async () => {
    vi.useFakeTimers()
    const f = mockFetch({ 'GET /api/jobs': { body: [] } })
    const store = useJobsStore()
    const stopA = store.subscribe()
    const stopB = store.subscribe()
    await vi.advanceTimersByTimeAsync(POLL_MS * 2 + 10)
    const n = f.calls.length
    expect(n).toBe(3)
    stopA()
    stopA()
    await vi.advanceTimersByTimeAsync(POLL_MS)
    expect(f.calls.length).toBe(n + 1)
    stopB()
    await vi.advanceTimersByTimeAsync(POLL_MS * 3)
    expect(f.calls.length).toBe(n + 1)
  })

  it('toasts how each job ended, once: success, failure, and a cancel as news, not an error', async () => {
    const f = mockFetch({
      'GET /api/jobs': {
        body: [
          makeJob({ id: 9 }),
          makeJob({ id: 10, target_id: 2, target_name: 'wiki' }),
          makeJob({ id: 11, target_id: 3, target_name: 'blog' }),
        ],
      },
      'GET /api/backups/9': { body: makeBackup({ id: 9 }) },
      'GET /api/backups/10': { body: makeBackup({ id: 10, status: 'failed', notes: 'disk full' }) },
      'GET /api/backups/11': { body: makeBackup({ id: 11, status: 'cancelled', notes: 'cancelled by the user' }) },
    })
    const store = useJobsStore()
    const toasts = useToastStore()
    await store.load()
    f.on('GET /api/jobs', { body: [] })
    await store.load()
    await store.load()
    expect(toasts.toasts.map((t) => [t.kind, t.message])).toEqual([
      ['success', 'Backup of "shop" finished.'],
      ['error', 'Backup of "wiki" failed: disk full'],
      ['info', 'Backup of "blog" was cancelled.'],
    ])
  })

  it('tells how a verification ended from its backup, never from a restore with the same id', async () => {
    const passed = { status: 'passed' as const, started_at: '2026-11-26T03:00:00Z', finished_at: '2026-11-26T03:01:00Z', notes: '' }
    const f = mockFetch({
      'GET /api/jobs': { body: [makeJob({ kind: 'verify', id: 9 }), makeJob({ kind: 'verify', id: 10, target_name: 'wiki' })] },
      'GET /api/backups/9': { body: makeBackup({ id: 9, verification: passed }) },
      'GET /api/backups/10': { body: makeBackup({ id: 10, verification: { ...passed, status: 'failed', notes: 'table t: rows differ' } }) },
    })
    const store = useJobsStore()
    const toasts = useToastStore()
    await store.load()
    f.on('GET /api/jobs', { body: [] })
    await store.load()
    expect(toasts.toasts.map((t) => [t.kind, t.message])).toEqual([
      ['success', 'A backup of "shop" is verified: it restored to the same data.'],
      ['error', 'Verification of a backup of "wiki" failed: table t: rows differ'],
    ])
    expect(f.calls.some((c) => c.url.includes('/api/restores/'))).toBe(false)
  })

  it('keeps a job a page started after a poll went out until a later poll has had the chance to list it', async () => {
    let answer: (r: Response) => void = () => {}
    vi.stubGlobal('fetch', vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))))
    const store = useJobsStore()
    const early = store.load()
    store.track(makeJob({ id: 11 }))
    store.track(makeJob({ id: 11 }))
    answer(new Response('[]', { status: 200 }))
    await early
    expect(store.jobs.map((j) => j.id)).toEqual([11])
    expect(store.find('backup', 11)?.target_name).toBe('shop')
    const f = mockFetch({ 'GET /api/jobs': { body: [] }, 'GET /api/backups/11': { body: makeBackup({ id: 11 }) } })
    await store.load()
    expect(store.jobs).toEqual([])
    expect(store.finished).toBe(1)
    expect(f.callsTo('GET /api/backups/11')).toHaveLength(1)
  })

  it('keeps the last list when a poll fails', async () => {
    const f = mockFetch({ 'GET /api/jobs': { body: [makeJob()] } })
    const store = useJobsStore()
    await store.load()
    f.on('GET /api/jobs', { status: 500, body: { error: { code: 'internal', message: 'x' } } })
    await store.load()
    expect(store.jobs).toHaveLength(1)
    expect(store.error).toBeInstanceOf(ApiError)
  })
})

describe('settings store', () => {
  it('loads the server settings', async () => {
    mockFetch({ 'GET /api/settings': { body: makeSettings({ version: '9.9.9' }) } })
    const store = useSettingsStore()
    await store.load()
    expect(store.settings?.version).toBe('9.9.9')
  })
})

describe('prefs store', () => {
  it('remembers theme and language and applies them to <html>', () => {
    const prefs = usePrefsStore()
    prefs.setTheme('dark')
    prefs.setLocale('de')
    expect(localStorage.getItem('dumper.theme')).toBe('dark')
    expect(localStorage.getItem('dumper.locale')).toBe('de')
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark')
    expect(document.documentElement.getAttribute('lang')).toBe('de')

    setActivePinia(createPinia())
    const again = usePrefsStore()
    expect(again.theme).toBe('dark')
    expect(again.locale).toBe('de')
  })

  it('ignores garbage in storage', () => {
    localStorage.setItem('dumper.theme', 'purple')
    localStorage.setItem('dumper.locale', 'xx')
    const prefs = usePrefsStore()
    expect(['light', 'dark']).toContain(prefs.theme)
    expect(['en', 'de']).toContain(prefs.locale)
  })
})

describe('auth store', () => {
  it('stores the credentials only when the server accepts them', async () => {
    const f = mockFetch({ 'GET /api/settings': { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } } })
    const auth = useAuthStore()
    await expect(auth.login('admin', 'wrong')).resolves.toBe('wrong')
    expect(credentials.get()).toBeNull()
    expect(auth.loggedIn).toBe(false)

    f.on('GET /api/settings', { body: makeSettings({ auth_enabled: true }) })
    await expect(auth.login('admin', 'right')).resolves.toBe('ok')
    expect(credentials.get()).toBe(btoa('admin:right'))
    expect(auth.loggedIn).toBe(true)

    auth.logout()
    expect(credentials.get()).toBeNull()
    expect(auth.loggedIn).toBe(false)
  })

  it('reports throttling and rethrows other failures', async () => {
    const f = mockFetch({ 'GET /api/settings': { status: 429, body: { error: { code: 'too_many_requests', message: 'wait' } } } })
    const auth = useAuthStore()
    await expect(auth.login('a', 'b')).resolves.toBe('throttled')
    f.on('GET /api/settings', { status: 500, body: { error: { code: 'internal', message: 'x' } } })
    await expect(auth.login('a', 'b')).rejects.toBeInstanceOf(ApiError)
    expect(auth.busy).toBe(false)
  })

  it('keeps the time the server refuses logins until, and sends no login before then', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-11-26T10:00:00Z'))
    const f = mockFetch({
      'GET /api/settings': { status: 429, headers: { 'Retry-After': '30' }, body: { error: { code: 'too_many_requests', message: 'wait' } } },
    })
    const auth = useAuthStore()
    await expect(auth.login('a', 'b')).resolves.toBe('throttled')
    expect(auth.throttledUntil).toBe(Date.parse('2026-11-26T10:00:30Z'))
    vi.setSystemTime(new Date('2026-11-26T10:00:29Z'))
    await expect(auth.login('a', 'b')).resolves.toBe('throttled')
    expect(f.calls).toHaveLength(1)

    vi.setSystemTime(new Date('2026-11-26T10:00:30Z'))
    f.on('GET /api/settings', { body: makeSettings({ auth_enabled: true }) })
    await expect(auth.login('a', 'b')).resolves.toBe('ok')
    expect(f.calls).toHaveLength(2)
    expect(auth.throttledUntil).toBeNull()
  })
})
