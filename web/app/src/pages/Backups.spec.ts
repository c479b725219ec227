import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { useJobsStore } from '@/stores'
import { button, makeBackup, makeJob, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
  vi.useRealTimers()
})

const failed = makeBackup({
  id: 4,
  status: 'failed',
  file_exists: false,
  size_bytes: null,
  sha256: null,
  notes: 'connection lost: (2013) Lost connection',
  started_at: '2026-11-25T03:00:00Z',
})

function base() {
  return mockFetch({
    'GET /api/targets/1': { body: makeTarget() },
    'GET /api/targets/1/backups': { body: [makeBackup({ id: 5 }), failed] },
  })
}

describe('backups page', () => {
  it('lists the backups with status, size, trigger and which actions apply', async () => {
    base()
    app = await mountApp('/targets/1/backups')
    const w = app.wrapper
    expect(w.get('h1').text()).toBe('Backups of "shop"')
    const ok = w.get('tr[data-backup-id="5"]')
    expect(ok.text()).toContain('success')
    expect(ok.text()).toContain('121 KiB')
    expect(ok.text()).toContain('manual')
    expect(ok.text()).toContain('3.2 s')
    expect(button(ok, 'Download').attributes('disabled')).toBeUndefined()
    expect(button(ok, 'Restore').attributes('disabled')).toBeUndefined()
    const bad = w.get('tr[data-backup-id="4"]')
    expect(bad.text()).toContain('failed')
    expect(button(bad, 'Download').attributes('disabled')).toBeDefined()
    expect(button(bad, 'Restore').attributes('disabled')).toBeDefined()
    expect(button(bad, 'Delete').attributes('disabled')).toBeUndefined()
  })

  it('follows a verification it started to its end: the list reloads and the result is told', async () => {
    const f = base()
    const passed = { status: 'passed' as const, started_at: '2026-11-26T03:00:00Z', finished_at: '2026-11-26T03:00:02Z', notes: '' }
    f.on('POST /api/backups/5/verify', { status: 202, body: makeBackup({ id: 5 }) })
    f.on('GET /api/backups/5', { body: makeBackup({ id: 5, verification: passed }) })
    f.on('GET /api/jobs', { body: [] }) // over before the first poll could list it
    app = await mountApp('/targets/1/backups')
    const listed = f.callsTo('GET /api/targets/1/backups').length
    f.on('GET /api/targets/1/backups', { body: [makeBackup({ id: 5, verification: passed }), failed] })
    await button(app.wrapper.get('tr[data-backup-id="5"]'), 'Verify now').trigger('click')
    await flushPromises()
    await useJobsStore(app.pinia).load() // the next poll: the job is gone
    await flushPromises()
    expect(f.callsTo('GET /api/targets/1/backups').length).toBeGreaterThan(listed + 1)
    expect(app.wrapper.get('tr[data-backup-id="5"]').text()).toContain('verified')
    expect(app.wrapper.text()).toContain('A backup of "shop" is verified')
  })

  it('shows the error of a failed backup in its details', async () => {
    base()
    app = await mountApp('/targets/1/backups')
    await button(app.wrapper.get('tr[data-backup-id="4"]'), 'Details').trigger('click')
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('Error')
    expect(dialog.text()).toContain('connection lost: (2013) Lost connection')
    await button(dialog, 'Close').trigger('click')
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
  })

  it('restores only after the target name is typed, then follows the restore to its end', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const f = base()
      .on('GET /api/jobs', { body: [] })
      .on('POST /api/backups/5/restore', {
        status: 202,
        body: { id: 2, backup_id: 5, target_id: 1, status: 'running', started_at: '2026-11-26T10:00:00Z', finished_at: null, duration_seconds: null, statements: null, notes: '', progress: { bytes_read: 50, bytes_total: 100, statements: 7 } },
      })
      .on('GET /api/restores/2', {
        body: { id: 2, backup_id: 5, target_id: 1, status: 'success', started_at: '2026-11-26T10:00:00Z', finished_at: '2026-11-26T10:00:09Z', duration_seconds: 9, statements: 1234, notes: '', progress: null },
      })
    app = await mountApp('/targets/1/backups')
    await button(app.wrapper.get('tr[data-backup-id="5"]'), 'Restore').trigger('click')
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('database "shopdb" on db.lan:3306 will be overwritten')
    const confirm = button(dialog, 'Restore database')
    expect(confirm.attributes('disabled')).toBeDefined()
    await dialog.get('[data-testid="restore-confirm"]').setValue('shop')
    await confirm.trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/backups/5/restore')[0]!.body).toEqual({ confirm: 'shop', clean: false })
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    expect(app.wrapper.text()).toContain('Restore running')
    expect(app.wrapper.get('progress[aria-label="Restore running"]').attributes('value')).toBe('50')
    // While the restore reads the file, neither it nor another restore can be started or deleted.
    const row = app.wrapper.get('tr[data-backup-id="5"]')
    expect(button(row, 'Delete').attributes('disabled')).toBeDefined()
    expect(button(row, 'Restore').attributes('disabled')).toBeDefined()
    expect(button(app.wrapper, 'Back up now').attributes('disabled')).toBeDefined()

    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(f.callsTo('GET /api/restores/2').length).toBeGreaterThan(0)
    expect(app.wrapper.text()).not.toContain('Restore running')
    // The result stays on the page, in the backup's terms: its tables and rows are back.
    const result = app.wrapper.get('[data-testid="restore-result"]')
    expect(result.text()).toContain('Restore finished: 16 tables, 47,000 rows')
    expect(app.wrapper.findAll('[data-kind]').some((x) => x.text().includes('finished'))).toBe(false) // said once, here
    await vi.advanceTimersByTimeAsync(30_000)
    expect(app.wrapper.get('[data-testid="restore-result"]').text()).toContain('47,000 rows')
  })

  it('lists the restores of the target: when, which backup, into what, tables and rows, notes', async () => {
    const restore = (over: Record<string, unknown>) => ({
      id: 2, backup_id: 5, target_id: 1, status: 'success', started_at: '2026-11-26T10:00:00Z', finished_at: '2026-11-26T10:00:09Z',
      duration_seconds: 9, statements: 1234, notes: '', progress: null, database: null, clean: false, selected_tables: null, tables: 16, rows: 47000,
      ...over,
    })
    base()
      .on('GET /api/targets', { body: [makeTarget(), makeTarget({ id: 2, name: 'staging', dbname: 'stagedb' })] })
      .on('GET /api/targets/1/restores', {
        body: [
          restore({ id: 4, database: 'shop_copy', selected_tables: ['actor', 'film'], tables: 2, rows: 1200, clean: true }),
          restore({ id: 3, target_id: 2, status: 'failed', tables: null, rows: null, notes: 'cancelled by the user' }),
          restore({ id: 2 }),
        ],
      })
    app = await mountApp('/targets/1/backups')
    const rows = app.wrapper.findAll('[data-testid="restore-history"] tbody tr')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.text()).toContain('database shop_copy')
    expect(rows[0]!.text()).toContain('only: actor, film')
    expect(rows[0]!.text()).toContain('clean')
    expect(rows[0]!.text()).toContain('2 tables, 1,200 rows')
    expect(rows[0]!.text()).toContain('shop_2026-11-26_03-00-00.sql.gz')
    expect(rows[1]!.text()).toContain('target staging')
    expect(rows[1]!.text()).toContain('failed')
    expect(rows[1]!.text()).toContain('cancelled by the user')
    expect(rows[2]!.text()).toContain('target shop')
    expect(rows[2]!.text()).toContain('16 tables, 47,000 rows')
    expect(rows[2]!.text()).not.toContain('1234')
  })

  it('reloads the restores when a restore ends', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    let listed: unknown[] = []
    const f = base()
      .on('GET /api/targets/1/restores', () => ({ body: listed }))
      .on('GET /api/jobs', { body: [makeJob({ kind: 'restore', id: 2, progress: { bytes_read: 1, bytes_total: 2, statements: 1 } })] })
      .on('GET /api/restores/2', { body: { id: 2, backup_id: 5, target_id: 1, status: 'success', started_at: '2026-11-26T10:00:00Z', finished_at: '2026-11-26T10:00:09Z', duration_seconds: 9, statements: 3, notes: '', progress: null, database: 'copy', clean: false, selected_tables: null, tables: 1, rows: 5 } })
    app = await mountApp('/targets/1/backups')
    expect(app.wrapper.text()).toContain('No restores yet.')
    const before = f.callsTo('GET /api/targets/1/restores').length
    listed = [{ id: 2, backup_id: 5, target_id: 1, status: 'success', started_at: '2026-11-26T10:00:00Z', finished_at: '2026-11-26T10:00:09Z', duration_seconds: 9, statements: 3, notes: '', progress: null, database: 'copy', clean: false, selected_tables: null, tables: 1, rows: 5 }]
    f.on('GET /api/jobs', { body: [] })
    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(f.callsTo('GET /api/targets/1/restores').length).toBeGreaterThan(before)
    expect(app.wrapper.get('[data-testid="restore-history"]').text()).toContain('1 tables, 5 rows')
  })

  it('says the target does not exist when a deep link names an unknown id', async () => {
    const missing = { status: 404, body: { error: { code: 'not_found', message: 'target 9999 not found' } } }
    mockFetch({ 'GET /api/targets/9999': missing, 'GET /api/targets/9999/backups': missing, 'GET /api/jobs': { body: [] } })
    app = await mountApp('/targets/9999/backups')
    const w = app.wrapper
    expect(w.get('h1').text()).toBe('Target not found')
    expect(w.text()).not.toContain('Backups of ""')
    expect(w.findAll('button').filter((b) => b.text() === 'Try again')).toHaveLength(0)
    expect(w.findAll('main a').map((a) => a.attributes('href'))).toContain('/targets')
  })

  it('writes sizes, durations and counts the German way in German', async () => {
    localStorage.setItem('dumper.locale', 'de')
    base()
    app = await mountApp('/targets/1/backups')
    const ok = app.wrapper.get('tr[data-backup-id="5"]')
    expect(ok.text()).toContain('3,2 s')
    await button(ok, 'Details').trigger('click')
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('47.000')
    expect(dialog.text()).toContain('3,2 s')
  })

  it('says why the actions wait while a job of the target runs', async () => {
    const running = makeBackup({ id: 7, status: 'running', finished_at: null, duration_seconds: null, size_bytes: null, sha256: null, progress: { bytes_written: 0, rows: 0, table: null, tables_done: 0, tables_total: 0 } })
    mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'backup', id: 7 } }) },
      'GET /api/targets/1/backups': { body: [running, makeBackup({ id: 5 })] },
      'GET /api/jobs': { body: [makeJob({ id: 7, progress: running.progress! })] },
    })
    app = await mountApp('/targets/1/backups')
    const w = app.wrapper
    const why = (b: ReturnType<typeof button>) => {
      expect(b.attributes('disabled'), b.text()).toBeDefined()
      const id = b.attributes('aria-describedby')
      expect(id, b.text()).toBeTruthy()
      return w.get(`[id="${id}"]`).text()
    }
    expect(why(button(w, 'Back up now'))).toBe('A backup of this target is running.')
    const ok = w.get('tr[data-backup-id="5"]')
    expect(why(button(ok, 'Restore'))).toBe('A backup of this target is running.')
    expect(why(button(ok, 'Delete'))).toBe('A backup of this target is running.')
    expect(w.get('tr[data-backup-id="7"]').text()).toContain('starting')
    expect(w.get('tr[data-backup-id="7"]').text()).not.toContain('0 of 0 tables')
  })

  it('tells why the server refused a restore', async () => {
    base().on('POST /api/backups/5/restore', { status: 409, body: { error: { code: 'conflict', message: 'a backup runs for this target' } } })
    app = await mountApp('/targets/1/backups')
    await button(app.wrapper.get('tr[data-backup-id="5"]'), 'Restore').trigger('click')
    const dialog = app.wrapper.get('[role="dialog"]')
    await dialog.get('[data-testid="restore-confirm"]').setValue('shop')
    await button(dialog, 'Restore database').trigger('click')
    await flushPromises()
    expect(app.wrapper.get('[data-kind="error"]').text()).toContain('shop: Not possible right now: a backup runs for this target')
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(true) // still open: nothing happened
  })

  it('deletes a backup after confirmation', async () => {
    const f = base().on('DELETE /api/backups/4', { status: 204 })
    app = await mountApp('/targets/1/backups')
    await button(app.wrapper.get('tr[data-backup-id="4"]'), 'Delete').trigger('click')
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('This cannot be undone.')
    await button(dialog, 'Delete backup').trigger('click')
    await flushPromises()
    expect(f.callsTo('DELETE /api/backups/4')).toHaveLength(1)
    expect(app.wrapper.find('tr[data-backup-id="4"]').exists()).toBe(false)
    expect(app.wrapper.text()).toContain('Backup deleted.')
  })

  it('shows the live progress of a running backup and toasts when it finishes', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    const running = makeBackup({
      id: 7, status: 'running', finished_at: null, duration_seconds: null, size_bytes: null, sha256: null,
      progress: { bytes_written: 2048, rows: 1500, table: 'orders', tables_done: 1, tables_total: 4 },
    })
    const f = mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'backup', id: 7 } }) },
      'GET /api/targets/1/backups': { body: [running] },
      'GET /api/jobs': { body: [makeJob({ id: 7, progress: running.progress! })] },
      'GET /api/backups/7': { body: makeBackup({ id: 7 }) },
    })
    app = await mountApp('/targets/1/backups')
    const row = app.wrapper.get('tr[data-backup-id="7"]')
    expect(row.get('progress').attributes('value')).toBe('25')
    expect(row.text()).toContain('1 of 4 tables')
    expect(row.text()).toContain('now: orders')
    expect(button(app.wrapper, 'Back up now').attributes('disabled')).toBeDefined()

    f.on('GET /api/targets/1/backups', { body: [makeBackup({ id: 7 })] }).on('GET /api/jobs', { body: [] })
    await vi.advanceTimersByTimeAsync(2000)
    await flushPromises()
    expect(app.wrapper.text()).toContain('Backup of "shop" finished.')
  })

  it('starts a backup and downloads a file', async () => {
    const f = base()
      .on('POST /api/targets/1/backup', { status: 202, body: makeBackup({ id: 8, status: 'running' }) })
      .on('HEAD /api/backups/5/download', { status: 200 })
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {})
    app = await mountApp('/targets/1/backups')
    await button(app.wrapper, 'Back up now').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/targets/1/backup')).toHaveLength(1)
    expect(app.wrapper.text()).toContain('Backup of "shop" started.')
    await button(app.wrapper.get('tr[data-backup-id="5"]'), 'Download').trigger('click')
    await flushPromises()
    expect(app.wrapper.text()).toContain('Download of shop_2026-11-26_03-00-00.sql.gz started.')
  })
})
