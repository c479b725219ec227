import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { button, makeBackup, makeJob, makeSettings, makeTarget, mockFetch, mountApp, type FetchMock, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

const runningBackup = makeBackup({
  id: 7, status: 'running', finished_at: null, duration_seconds: null, size_bytes: null, sha256: null,
  progress: { bytes_written: 2048, rows: 1500, table: 'orders', tables_done: 1, tables_total: 4 },
})
const runningRestore = {
  id: 2, backup_id: 5, target_id: 1, status: 'running', started_at: '2026-11-26T10:00:00Z', finished_at: null,
  duration_seconds: null, statements: null, notes: '', progress: { bytes_read: 50, bytes_total: 100, statements: 7 },
}

/** Holds every cancel request until `release()`, so the page can be looked at mid-request. */
function holdCancels(): { release: () => void } {
  const inner = globalThis.fetch
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/cancel')) await gate
    return inner(input, init)
  })
  return { release }
}

const cancelBackupButton = (m: Mounted) => m.wrapper.get('button[aria-label="Cancel backup"]')
const toast = (m: Mounted, kind: string) => m.wrapper.get(`[data-kind="${kind}"]`).text()

describe('cancel button on the backups page', () => {
  function page(): FetchMock {
    return mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'backup', id: 7 } }) },
      'GET /api/targets/1/backups': { body: [runningBackup, makeBackup({ id: 5 })] },
    })
  }

  it('sits next to the progress of a running backup only', async () => {
    page()
    app = await mountApp('/targets/1/backups')
    const row = app.wrapper.get('tr[data-backup-id="7"]')
    expect(row.get('button[aria-label="Cancel backup"]').text()).toBe('Cancel')
    expect(row.find('progress').exists()).toBe(true)
    expect(app.wrapper.get('tr[data-backup-id="5"]').find('button[aria-label="Cancel backup"]').exists()).toBe(false)
  })

  it('cancels a backup without asking, is disabled while the request runs, and toasts', async () => {
    const f = page().on('POST /api/backups/7/cancel', { status: 202, body: runningBackup })
    app = await mountApp('/targets/1/backups')
    const gate = holdCancels()
    await cancelBackupButton(app).trigger('click')
    await flushPromises()
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    const sending = app.wrapper.get('tr[data-backup-id="7"] button.btn-error')
    expect(sending.attributes('disabled')).toBeDefined()
    expect(sending.attributes('aria-busy')).toBe('true')
    await sending.trigger('click') // disabled: no second request
    gate.release()
    await flushPromises()
    expect(f.callsTo('POST /api/backups/7/cancel')).toHaveLength(1)
    expect(toast(app, 'success')).toContain('Backup of "shop" is being cancelled; no file will be kept.')
    // accepted: the job still runs until the worker stops, and says so
    const after = app.wrapper.get('button[aria-label="Cancelling…"]')
    expect(after.text()).toBe('Cancelling…')
    expect(after.attributes('disabled')).toBeDefined()
  })

  it('toasts why a cancel was refused and lets the user try again', async () => {
    page().on('POST /api/backups/7/cancel', {
      status: 409,
      body: { error: { code: 'conflict', message: 'backup 7 already ended (success): nothing to cancel' } },
    })
    app = await mountApp('/targets/1/backups')
    await cancelBackupButton(app).trigger('click')
    await flushPromises()
    expect(toast(app, 'error')).toContain(
      'Could not cancel the backup of "shop": This job has already ended; there is nothing to cancel.',
    )
    expect(cancelBackupButton(app).attributes('disabled')).toBeUndefined()
  })

  it('asks before cancelling a restore, warning that the database stays partially restored', async () => {
    const f = mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'restore', id: 2 } }) },
      'GET /api/targets/1/backups': { body: [makeBackup({ id: 5 })] },
      'GET /api/restores/2': { body: runningRestore },
      'POST /api/restores/2/cancel': { status: 202, body: runningRestore },
    })
    app = await mountApp('/targets/1/backups')
    expect(app.wrapper.text()).toContain('Restore running')
    await app.wrapper.get('button[aria-label="Cancel restore"]').trigger('click')
    let dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('Stop the restore of "shop"?')
    expect(dialog.text()).toContain('the database will be left partially restored')
    await button(dialog, 'Let it finish').trigger('click')
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    expect(f.callsTo('POST /api/restores/2/cancel')).toHaveLength(0)

    await app.wrapper.get('button[aria-label="Cancel restore"]').trigger('click')
    dialog = app.wrapper.get('[role="dialog"]')
    await button(dialog, 'Stop the restore').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/restores/2/cancel')).toHaveLength(1)
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    expect(toast(app, 'success')).toContain('Restore of "shop" stops after the current statement.')
    expect(app.wrapper.get('button[aria-label="Cancelling…"]').attributes('disabled')).toBeDefined()
  })

  it('closes the restore question and toasts when the server refuses', async () => {
    mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'restore', id: 2 } }) },
      'GET /api/targets/1/backups': { body: [makeBackup({ id: 5 })] },
      'GET /api/restores/2': { body: runningRestore },
      'POST /api/restores/2/cancel': {
        status: 409,
        body: { error: { code: 'conflict', message: 'restore 2 already ended (success): nothing to cancel' } },
      },
    })
    app = await mountApp('/targets/1/backups')
    await app.wrapper.get('button[aria-label="Cancel restore"]').trigger('click')
    await button(app.wrapper.get('[role="dialog"]'), 'Stop the restore').trigger('click')
    await flushPromises()
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    expect(toast(app, 'error')).toContain('Could not cancel the restore of "shop": This job has already ended; there is nothing to cancel.')
  })
})

describe('cancel buttons on the dashboard', () => {
  it('offers a cancel for each running job and sends the right one', async () => {
    const f = mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 1, running_job: { kind: 'backup', id: 9 } }), makeTarget({ id: 2, name: 'wiki' })] },
      'GET /api/jobs': {
        body: [
          makeJob({ id: 9, target_id: 1 }),
          makeJob({ kind: 'restore', id: 3, target_id: 2, target_name: 'wiki', progress: { bytes_read: 1, bytes_total: 4, statements: 2 } }),
        ],
      },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/1/backups': { body: [] },
      'POST /api/backups/9/cancel': { status: 202, body: makeBackup({ id: 9, status: 'running' }) },
      'POST /api/restores/3/cancel': { status: 202, body: { ...runningRestore, id: 3 } },
    })
    app = await mountApp('/')
    const items = app.wrapper.get('section[aria-labelledby="running-title"]').findAll('li')
    expect(items.map((li) => li.find('button.btn-error').attributes('aria-label'))).toEqual(['Cancel backup', 'Cancel restore'])

    await cancelBackupButton(app).trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/backups/9/cancel')).toHaveLength(1)
    expect(toast(app, 'success')).toContain('Backup of "shop" is being cancelled')

    await app.wrapper.get('button[aria-label="Cancel restore"]').trigger('click')
    expect(f.callsTo('POST /api/restores/3/cancel')).toHaveLength(0) // asks first
    await button(app.wrapper.get('[role="dialog"]'), 'Stop the restore').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/restores/3/cancel')).toHaveLength(1)
    expect(app.wrapper.text()).toContain('Restore of "wiki" stops after the current statement.')
  })

  it('forgets the cancelling state once the job is gone', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      const f = mockFetch({
        'GET /api/targets': { body: [makeTarget({ id: 1 })] },
        'GET /api/jobs': { body: [makeJob({ id: 9, target_id: 1 })] },
        'GET /api/settings': { body: makeSettings() },
        'GET /api/targets/1/backups': { body: [] },
        'POST /api/backups/9/cancel': { status: 202, body: makeBackup({ id: 9, status: 'running' }) },
      })
      app = await mountApp('/')
      await cancelBackupButton(app).trigger('click')
      await flushPromises()
      const { useJobsStore } = await import('@/stores')
      const jobs = useJobsStore(app.pinia)
      expect(jobs.isCancelling('backup', 9)).toBe(true)
      f.on('GET /api/jobs', { body: [] })
      await vi.advanceTimersByTimeAsync(2000)
      await flushPromises()
      expect(jobs.isCancelling('backup', 9)).toBe(false)
      expect(app.wrapper.text()).toContain('No job is running.')
    } finally {
      vi.useRealTimers()
    }
  })
})
