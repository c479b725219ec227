import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { button, makeBackup, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

function base() {
  return mockFetch({
    'GET /api/targets': { body: [makeTarget({ id: 1, name: 'shop' }), makeTarget({ id: 2, name: 'crm', schedule_time: null })] },
    'GET /api/jobs': { body: [] },
  })
}

describe('targets page', () => {
  it('lists the targets with their actions', async () => {
    base()
    app = await mountApp('/targets')
    const rows = app.wrapper.findAll('tbody tr')
    expect(rows.map((r) => r.attributes('data-target'))).toEqual(['crm', 'shop'])
    const shop = app.wrapper.get('tr[data-target="shop"]')
    expect(shop.text()).toContain('daily 03:00')
    expect(shop.text()).toContain('shopdb @ db.lan:3306')
    const links = shop.findAll('a').map((a) => [a.text(), a.attributes('href')])
    expect(links).toContainEqual(['Edit', '/targets/1/edit'])
    expect(links).toContainEqual(['Backups', '/targets/1/backups'])
    expect(app.wrapper.get('tr[data-target="crm"]').text()).toContain('no schedule')
  })

  it('starts a backup from the row', async () => {
    const f = base().on('POST /api/targets/1/backup', { status: 202, body: makeBackup({ status: 'running' }) })
    app = await mountApp('/targets')
    await button(app.wrapper.get('tr[data-target="shop"]'), 'Back up now').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/targets/1/backup')).toHaveLength(1)
    expect(app.wrapper.text()).toContain('Backup of "shop" started.')
  })

  it('deletes a target with its backup files only after that choice is made', async () => {
    const f = base()
      .on('GET /api/targets/1/backups', { body: [makeBackup({ id: 5 }), makeBackup({ id: 6 })] })
      .on('DELETE /api/targets/1', { status: 204 })
    app = await mountApp('/targets')
    await button(app.wrapper.get('tr[data-target="shop"]'), 'Delete').trigger('click')
    await flushPromises()
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('Delete target "shop"?')
    expect(dialog.text()).toContain('It has 2 backup files.')
    const confirm = button(dialog, 'Delete target')
    expect(confirm.attributes('disabled')).toBeDefined()
    await dialog.findAll('input[type="radio"]').find((r) => r.attributes('value') === 'delete')!.setValue(true)
    expect(dialog.text()).toContain('This cannot be undone.')
    await confirm.trigger('click')
    await flushPromises()
    expect(f.calls.some((c) => c.method === 'DELETE' && c.url === '/api/targets/1?with_backups=true')).toBe(true)
    expect(app.wrapper.find('tr[data-target="shop"]').exists()).toBe(false)
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(false)
    expect(app.wrapper.text()).toContain('Target "shop" deleted.')
  })

  it('counts backup files, not rows, and can delete the target but keep its files', async () => {
    const f = base()
      .on('GET /api/targets/1/backups', {
        body: [makeBackup({ id: 5 }), makeBackup({ id: 6 }), makeBackup({ id: 7, status: 'failed', file_exists: false, size_bytes: null })],
      })
      .on('DELETE /api/targets/1', { status: 204 })
    app = await mountApp('/targets')
    await button(app.wrapper.get('tr[data-target="shop"]'), 'Delete').trigger('click')
    await flushPromises()
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).toContain('It has 2 backup files.')
    const confirm = button(dialog, 'Delete target')
    expect(confirm.attributes('disabled')).toBeDefined() // a choice about the files first
    const keep = dialog.findAll('input[type="radio"]').find((r) => r.attributes('value') === 'keep')!
    await keep.setValue(true)
    expect(dialog.text()).toContain('The files stay in the backup folder')
    await confirm.trigger('click')
    await flushPromises()
    expect(f.calls.some((c) => c.method === 'DELETE' && c.url === '/api/targets/1?keep_files=true')).toBe(true)
    expect(app.wrapper.text()).toContain('Target "shop" deleted.')
  })

  it('a target whose only backup failed without a file has no files to ask about', async () => {
    const f = base()
      .on('GET /api/targets/1/backups', { body: [makeBackup({ id: 7, status: 'failed', file_exists: false, size_bytes: null })] })
      .on('DELETE /api/targets/1', { status: 204 })
    app = await mountApp('/targets')
    await button(app.wrapper.get('tr[data-target="shop"]'), 'Delete').trigger('click')
    await flushPromises()
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.text()).not.toMatch(/backup file/)
    expect(dialog.find('input[type="radio"]').exists()).toBe(false)
    expect(dialog.text()).toContain('Its 1 backup entry without a file goes with it.')
    await button(dialog, 'Delete target').trigger('click')
    await flushPromises()
    expect(f.calls.some((c) => c.method === 'DELETE' && c.url === '/api/targets/1?with_backups=true')).toBe(true)
  })

  it('deletes a target without backups straight away and reports a refusal', async () => {
    const f = base()
      .on('GET /api/targets/2/backups', { body: [] })
      .on('DELETE /api/targets/2', { status: 409, body: { error: { code: 'conflict', message: 'a job is running' } } })
    app = await mountApp('/targets')
    await button(app.wrapper.get('tr[data-target="crm"]'), 'Delete').trigger('click')
    await flushPromises()
    const dialog = app.wrapper.get('[role="dialog"]')
    expect(dialog.find('input[type="radio"]').exists()).toBe(false)
    await button(dialog, 'Delete target').trigger('click')
    await flushPromises()
    expect(f.calls.some((c) => c.method === 'DELETE' && c.url === '/api/targets/2')).toBe(true)
    expect(app.wrapper.get('[role="alert"]').text()).toContain('crm: Not possible right now: a job is running')
    expect(app.wrapper.find('[role="dialog"]').exists()).toBe(true)
  })

  it('reports the end of a restore that was running', async () => {
    const f = base()
      .on('GET /api/jobs', { body: [{ kind: 'restore', id: 3, target_id: 1, target_name: 'shop', started_at: '2026-11-26T10:00:00Z', progress: null }] })
      .on('GET /api/restores/3', { body: { id: 3, backup_id: 5, target_id: 1, status: 'success', started_at: '2026-11-26T10:00:00Z', finished_at: '2026-11-26T10:00:04Z', duration_seconds: 4, statements: 99, notes: '', progress: null } })
      .on('GET /api/backups/5', { body: makeBackup({ id: 5 }) })
    app = await mountApp('/targets')
    f.on('GET /api/jobs', { body: [] })
    const { useJobsStore } = await import('@/stores')
    await useJobsStore().load()
    await flushPromises()
    // Away from the target's backups page a toast says it, in the backup's tables and rows.
    expect(app.wrapper.get('[data-kind="success"]').text()).toContain('Restore of "shop" finished: 16 tables, 47,000 rows.')
  })

  it('shows the empty state', async () => {
    mockFetch({ 'GET /api/targets': { body: [] }, 'GET /api/jobs': { body: [] } })
    app = await mountApp('/targets')
    expect(app.wrapper.text()).toContain('No targets yet.')
  })
})
