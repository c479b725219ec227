import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, api, credentials, encodeBasic, setUnauthorizedHandler } from './api'
import { makeTarget, mockFetch } from '@/test/helpers'

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

  it('returns undefined for 204 answers and passes with_backups when deleting a target', async () => {
    const f = mockFetch({ 'DELETE /api/targets/3': { status: 204 } })
    await expect(api.deleteTarget(3, true)).resolves.toBeUndefined()
    expect(f.calls[0]!.url).toBe('/api/targets/3?with_backups=true')
    await api.deleteTarget(3)
    expect(f.calls[1]!.url).toBe('/api/targets/3')
  })

  it('sends the typed target name as the restore confirmation', async () => {
    const f = mockFetch({ 'POST /api/backups/5/restore': { status: 202, body: { id: 2, status: 'running' } } })
    await api.restoreBackup(5, 'shop')
    expect(f.calls[0]!.body).toEqual({ confirm: 'shop' })
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
