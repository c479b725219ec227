import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, credentials, encodeBasic, setUnauthorizedHandler } from './api'
import { createPinia } from 'pinia'
import { makeTarget, mockFetch } from '@/test/helpers'
import { POLL_MS, useJobsStore } from '@/stores/jobs'

describe('api client', () => {
  beforeEach(() => setUnauthorizedHandler(null))
  afterEach(() => setUnauthorizedHandler(null))

  it('marks every request with X-Requested-With and sends no Authorization before login', async () => {
    const f = mockFetch({ 'GET /api/targets': { body: [] } })
    await api.listTargets()
    expect(f.calls[0]!.headers['X-Requested-With']).toBe('XMLHttpRequest')
    expect(f.calls[0]!.headers.Authorization).toBeUndefined()
  })

  it('adds the Basic-Auth header from the credentials kept in sessionStorage', async () => {
    const f = mockFetch({ 'GET /api/jobs': { body: [] } })
    credentials.set('admin', 'pä:ss')
    await api.listJobs()
    const header = f.calls[0]!.headers.Authorization!
    expect(header.startsWith('Basic ')).toBe(true)
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(header.slice(6)), (c) => c.charCodeAt(0)))
    expect(decoded).toBe('admin:pä:ss')
    expect(sessionStorage.getItem('dumper.credentials')).toBe(encodeBasic('admin', 'pä:ss'))
  })

  it('a second tab uses a login remembered on this device; forgetting it clears both stores', async () => {
    const f = mockFetch({ 'GET /api/jobs': { body: [] } })
    localStorage.setItem('dumper.credentials', encodeBasic('admin', 'pw'))
    expect(credentials.get()).toBe(encodeBasic('admin', 'pw'))
    await api.listJobs()
    expect(f.calls[0]!.headers.Authorization).toBe(`Basic ${encodeBasic('admin', 'pw')}`)
    credentials.set('admin', 'pw2')
    expect(sessionStorage.getItem('dumper.credentials')).toBe(encodeBasic('admin', 'pw2'))
    expect(localStorage.getItem('dumper.credentials')).toBeNull() // not asked to remember this one
    credentials.set('admin', 'pw3', { remember: true })
    expect(localStorage.getItem('dumper.credentials')).toBe(encodeBasic('admin', 'pw3'))
    expect(sessionStorage.getItem('dumper.credentials')).toBeNull()
    credentials.clear()
    expect(credentials.get()).toBeNull()
  })

  it('sends JSON bodies with a content type and parses the JSON answer', async () => {
    const created = makeTarget({ id: 7 })
    const f = mockFetch({ 'POST /api/targets': { status: 201, body: created } })
    const input = { ...created, password: 'x' }
    const result = await api.createTarget(input)
    expect(result).toEqual(created)
    expect(f.calls[0]!.headers['Content-Type']).toBe('application/json')
    expect(f.calls[0]!.body).toEqual(input)
  })

  it('turns an error body into an ApiError with status, code, message and fields', async () => {
    mockFetch({
      'POST /api/targets': {
        status: 422,
        body: { error: { code: 'invalid_input', message: 'invalid target', fields: { name: 'already taken' } } },
      },
    })
    const err = await api.createTarget(makeTarget()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 422, code: 'invalid_input', message: 'invalid target', fields: { name: 'already taken' } })
  })

  it('keeps the status when the error body is not JSON', async () => {
    mockFetch({ 'GET /api/settings': { status: 502, text: '<html>bad gateway</html>' } })
    const err = (await api.getSettings().catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(502)
    expect(err.code).toBe('http_502')
    expect(err.fields).toEqual({})
  })

  it('reports a network failure as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    const err = (await api.listTargets().catch((e: unknown) => e)) as ApiError
    expect(err).toMatchObject({ status: 0, code: 'network', message: 'Failed to fetch' })
  })

  it('on 401 forgets the credentials and calls the one unauthorized handler', async () => {
    mockFetch({ 'GET /api/targets': { status: 401, body: { error: { code: 'unauthorized', message: 'login' } } } })
    credentials.set('admin', 'old')
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    const err = (await api.listTargets().catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(401)
    expect(handler).toHaveBeenCalledTimes(1)
    expect(credentials.get()).toBeNull()
  })

  it('checks login credentials without storing them and without redirecting on 401', async () => {
    const f = mockFetch({ 'GET /api/settings': { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } } })
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    await expect(api.checkCredentials('u', 'p')).rejects.toMatchObject({ status: 401 })
    expect(handler).not.toHaveBeenCalled()
    expect(f.calls[0]!.headers.Authorization).toBe(`Basic ${btoa('u:p')}`)
    expect(credentials.get()).toBeNull()
  })

  it('returns undefined for 204 answers and says what happens to the backups when deleting a target', async () => {
    const f = mockFetch({ 'DELETE /api/targets/3': { status: 204 } })
    await expect(api.deleteTarget(3, 'delete')).resolves.toBeUndefined()
    expect(f.calls[0]!.url).toBe('/api/targets/3?with_backups=true')
    await api.deleteTarget(3)
    expect(f.calls[1]!.url).toBe('/api/targets/3')
    await api.deleteTarget(3, 'keep')
    expect(f.calls[2]!.url).toBe('/api/targets/3?keep_files=true')
  })

  it('sends the typed target name as the restore confirmation', async () => {
    const f = mockFetch({ 'POST /api/backups/5/restore': { status: 202, body: { id: 2, status: 'running' } } })
    await api.restoreBackup(5, 'shop')
    expect(f.calls[0]!.body).toEqual({ confirm: 'shop' })
  })

  it('sends a restore elsewhere as asked, reads a backup\'s contents and a target\'s restores', async () => {
    const f = mockFetch({
      'POST /api/backups/5/restore': { status: 202, body: { id: 2, status: 'running' } },
      'GET /api/backups/5/contents': { body: { tables: [] } },
      'GET /api/targets/1/restores': { body: [] },
    })
    await api.restoreBackup(5, { confirm: 'copy', database: 'copy', tables: ['film'] })
    expect(f.calls[0]!.body).toEqual({ confirm: 'copy', database: 'copy', tables: ['film'] })
    await expect(api.backupContents(5)).resolves.toEqual({ tables: [] })
    await expect(api.listRestores(1)).resolves.toEqual([])
  })

  it('calls every other route at the documented path', async () => {
    const f = mockFetch()
    const t = makeTarget()
    for (const route of [
      'GET /api/targets/1', 'PUT /api/targets/1', 'POST /api/targets/test', 'POST /api/targets/1/test',
      'POST /api/targets/1/backup', 'GET /api/targets/1/backups', 'GET /api/backups/5', 'DELETE /api/backups/5',
      'GET /api/restores/2', 'GET /api/openapi.json', 'GET /healthz', 'GET /metrics',
    ]) f.on(route, { body: {} })
    await api.getTarget(1)
    await api.updateTarget(1, t)
    await api.testConnection(t)
    await api.testStoredConnection(1)
    await api.startBackup(1)
    await api.listBackups(1)
    await api.getBackup(5)
    await api.deleteBackup(5)
    await api.getRestore(2)
    await api.openapi()
    await api.healthz()
    await api.metrics()
    expect(f.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/targets/1', 'PUT /api/targets/1', 'POST /api/targets/test', 'POST /api/targets/1/test',
      'POST /api/targets/1/backup', 'GET /api/targets/1/backups', 'GET /api/backups/5', 'DELETE /api/backups/5',
      'GET /api/restores/2', 'GET /api/openapi.json', 'GET /healthz', 'GET /metrics',
    ])
  })

  it('reads a 503 from /readyz as "not ready" instead of throwing', async () => {
    mockFetch({ 'GET /readyz': { status: 503, body: { error: { code: 'x', message: 'sqlite not writable' } } } })
    await expect(api.readyz()).resolves.toEqual({ status: 'not ready', reasons: ['sqlite not writable'] })
  })

  it('downloads through a plain link after a HEAD check when no login is needed', async () => {
    const f = mockFetch({ 'HEAD /api/backups/5/download': { status: 200 } })
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    await api.downloadBackup(5, 'shop.sql.gz')
    expect(f.calls[0]!.method).toBe('HEAD')
    expect(click).toHaveBeenCalledTimes(1)
    const a = click.mock.contexts[0] as HTMLAnchorElement
    expect(a.getAttribute('href')).toBe('/api/backups/5/download')
    expect(a.download).toBe('shop.sql.gz')
  })

  it('downloads with the auth header through a blob when logged in, and fails on a missing file', async () => {
    const f = mockFetch({ 'GET /api/backups/5/download': { text: 'gzdata' } })
    credentials.set('a', 'b')
    const created = vi.fn(() => 'blob:x')
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }))
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    await api.downloadBackup(5, 'shop.sql.gz')
    expect(f.calls[0]!.headers.Authorization).toBe(`Basic ${btoa('a:b')}`)
    expect(created).toHaveBeenCalledTimes(1)
    expect((click.mock.contexts[0] as HTMLAnchorElement).getAttribute('href')).toBe('blob:x')

    await expect(api.downloadBackup(6, 'gone.sql.gz')).rejects.toMatchObject({ status: 404 })
  })
})

describe('api client after a 401', () => {
  const unauthorized = { status: 401, body: { error: { code: 'unauthorized', message: 'wrong user name or password' } } }
  beforeEach(() => setUnauthorizedHandler(null))
  afterEach(() => setUnauthorizedHandler(null))

  it('sends nothing more until the next login: every call fails at once and asks for the login form', async () => {
    const f = mockFetch({ 'GET /api/targets': unauthorized, 'GET /api/jobs': unauthorized, 'GET /api/settings': unauthorized })
    credentials.set('admin', 'old')
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    await expect(api.listTargets()).rejects.toMatchObject({ status: 401 })
    expect(f.calls).toHaveLength(1)

    await expect(api.listJobs()).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
    await expect(api.getSettings()).rejects.toMatchObject({ status: 401 })
    await expect(api.startBackup(1)).rejects.toMatchObject({ status: 401 })
    await expect(api.metrics()).rejects.toMatchObject({ status: 401 })
    await expect(api.downloadBackup(5, 'x.sql.gz')).rejects.toMatchObject({ status: 401 })
    expect(f.calls).toHaveLength(1)
    expect(handler).toHaveBeenCalledTimes(6)

    // Only the login attempt itself goes out; once accepted, requests flow again.
    f.on('GET /api/settings', { body: {} }).on('GET /api/jobs', { body: [] })
    await api.checkCredentials('admin', 'new')
    expect(f.calls).toHaveLength(2)
    expect(f.calls[1]!.headers.Authorization).toBe(`Basic ${btoa('admin:new')}`)
    await expect(api.listJobs()).rejects.toMatchObject({ status: 401 }) // not stored yet: still locked
    expect(f.calls).toHaveLength(2)
    credentials.set('admin', 'new')
    await expect(api.listJobs()).resolves.toEqual([])
    expect(f.calls).toHaveLength(3)
  })

  it('a poller stops reaching the server after the first 401', async () => {
    vi.useFakeTimers()
    try {
      const f = mockFetch({ 'GET /api/jobs': unauthorized })
      credentials.set('admin', 'old')
      const jobs = useJobsStore(createPinia())
      const stop = jobs.subscribe()
      await vi.advanceTimersByTimeAsync(POLL_MS * 5)
      stop()
      expect(f.calls).toHaveLength(1)
      expect(jobs.error).toMatchObject({ status: 401 })
    } finally {
      vi.useRealTimers()
    }
  })

  it('tries stored credentials no answer has confirmed yet with one request at a time', async () => {
    // A tab reloaded with an old password: its page load fires several calls at once, but only the
    // first reaches the server, so the tab costs the login throttle one failure, not one per call.
    sessionStorage.setItem('dumper.credentials', encodeBasic('admin', 'old'))
    const f = mockFetch({ 'GET /api/targets': unauthorized, 'GET /api/jobs': unauthorized, 'GET /api/settings': unauthorized })
    const results = await Promise.allSettled([api.listTargets(), api.listJobs(), api.getSettings()])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    expect(results.map((r) => (r as PromiseRejectedResult).reason.status)).toEqual([401, 401, 401])
    expect(f.calls).toHaveLength(1)
  })

  it('sends the waiting calls once the first answer confirms the stored credentials', async () => {
    sessionStorage.setItem('dumper.credentials', encodeBasic('admin', 'pw'))
    const f = mockFetch({ 'GET /api/targets': { body: [] }, 'GET /api/jobs': { body: [] }, 'GET /api/settings': { body: {} } })
    await expect(Promise.all([api.listTargets(), api.listJobs(), api.getSettings()])).resolves.toEqual([[], [], {}])
    expect(f.calls.map((c) => c.url)).toEqual(['/api/targets', '/api/jobs', '/api/settings'])
    expect(f.calls.every((c) => c.headers.Authorization === `Basic ${encodeBasic('admin', 'pw')}`)).toBe(true)
  })

  it('after the server was unreachable (a restart, perhaps with a new password) tries the stored login once', async () => {
    credentials.set('admin', 'old')
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    await expect(api.listJobs()).rejects.toMatchObject({ status: 0 })
    const f = mockFetch({ 'GET /api/jobs': unauthorized, 'GET /api/targets': unauthorized })
    await Promise.allSettled([api.listJobs(), api.listTargets(), api.listJobs()])
    expect(f.calls).toHaveLength(1)
  })

  it('ignores a late 401 for credentials that were replaced by a login meanwhile', async () => {
    let answer: (r: Response) => void = () => {}
    credentials.set('admin', 'old')
    vi.stubGlobal('fetch', vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))))
    const late = api.listJobs()
    credentials.set('admin', 'new')
    answer(new Response(JSON.stringify(unauthorized.body), { status: 401 }))
    await expect(late).rejects.toMatchObject({ status: 401 })
    expect(credentials.get()).toBe(encodeBasic('admin', 'new'))
    mockFetch({ 'GET /api/jobs': { body: [] } })
    await expect(api.listJobs()).resolves.toEqual([])
  })

  it('reads Retry-After of a 429 into the error', async () => {
    mockFetch({ 'GET /api/settings': { status: 429, headers: { 'Retry-After': '42' }, body: { error: { code: 'too_many_requests', message: 'wait' } } } })
    await expect(api.checkCredentials('a', 'b')).rejects.toMatchObject({ status: 429, retryAfter: 42 })
    mockFetch({ 'GET /api/settings': { status: 429, body: { error: { code: 'too_many_requests', message: 'wait' } } } })
    await expect(api.checkCredentials('a', 'b')).rejects.toMatchObject({ status: 429, retryAfter: null })
  })
})
