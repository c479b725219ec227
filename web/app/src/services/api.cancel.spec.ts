import { describe, expect, it } from 'vitest'
import { ApiError, api } from './api'
import { makeBackup, mockFetch } from '@/test/helpers'

const restore = {
  id: 2, backup_id: 5, target_id: 1, status: 'running' as const, started_at: '2026-11-26T10:00:00Z',
  finished_at: null, duration_seconds: null, statements: null, notes: '', progress: null,
}

describe('api client: cancel', () => {
  it('cancels a backup with a POST to its cancel route and returns the backup', async () => {
    const running = makeBackup({ id: 7, status: 'running' })
    const f = mockFetch({ 'POST /api/backups/7/cancel': { status: 202, body: running } })
    expect(await api.cancelBackup(7)).toEqual(running)
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0]).toMatchObject({ method: 'POST', url: '/api/backups/7/cancel', body: undefined })
  })

  it('cancels a restore with a POST to its cancel route and returns the restore', async () => {
    const f = mockFetch({ 'POST /api/restores/2/cancel': { status: 202, body: restore } })
    expect(await api.cancelRestore(2)).toEqual(restore)
    expect(f.callsTo('POST /api/restores/2/cancel')).toHaveLength(1)
  })

  it('reports a job that already ended as a 409 conflict', async () => {
    mockFetch({
      'POST /api/backups/7/cancel': {
        status: 409,
        body: { error: { code: 'conflict', message: 'backup 7 already ended (success): nothing to cancel' } },
      },
    })
    const err = await api.cancelBackup(7).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 409, code: 'conflict' })
    const missing = await api.cancelRestore(99).catch((e: unknown) => e)
    expect(missing).toMatchObject({ status: 404, code: 'not_found' })
  })
})
