import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { button, makeBackup, makeJob, makeSettings, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

describe('dashboard page', () => {
  it('leads to the first target when there is none', async () => {
    mockFetch({ 'GET /api/targets': { body: [] }, 'GET /api/jobs': { body: [] }, 'GET /api/settings': { body: makeSettings() } })
    app = await mountApp('/')
    expect(app.wrapper.text()).toContain('No targets yet')
    const cta = app.wrapper.findAll('a').find((a) => a.text() === 'Create your first target')!
    expect(cta.attributes('href')).toBe('/targets/new')
  })

  it('shows each target with last backup, size and next run, the disk and running jobs', async () => {
    mockFetch({
      'GET /api/targets': {
        body: [
          makeTarget({ id: 1, name: 'shop', last_backup_size_bytes: 2 * 1024 ** 2, running_job: { kind: 'backup', id: 9 } }),
          makeTarget({ id: 2, name: 'wiki', last_backup_status: 'failed', schedule_time: null, next_run_at: null }),
        ],
      },
      'GET /api/jobs': { body: [makeJob({ id: 9, target_id: 1 })] },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/1/backups': { body: [makeBackup({ size_bytes: 2048 })] },
    })
    app = await mountApp('/')
    const w = app.wrapper
    const shop = w.get('article[data-target="shop"]')
    expect(shop.text()).toContain('2.00 MiB')
    expect(shop.text()).toContain('running')
    expect(button(shop, 'Back up now').attributes('disabled')).toBeDefined()
    const wiki = w.get('article[data-target="wiki"]')
    expect(wiki.text()).toContain('failed')
    expect(wiki.text()).toContain('no schedule')
    const bar = w.get('progress[aria-label="Backup shop"]')
    expect(bar.attributes('value')).toBe('25')
    expect(w.text()).toContain('3 of 12 tables')
    const disk = w.get('[data-testid="disk"]')
    expect(disk.text()).toContain('Backups5.00 MiB')
    expect(disk.text()).toContain('Other use400 GiB')
    expect(disk.text()).toContain('Free600 GiB')
    expect(disk.text()).toContain('of 1,000 GiB')
    expect(disk.get('[role="img"]').attributes('aria-label')).toBe('Backups 5.00 MiB, other use 400 GiB, free 600 GiB of 1,000 GiB')
    // A running job says why its target's button waits.
    const reason = shop.get(`[id="${button(shop, 'Back up now').attributes('aria-describedby')}"]`)
    expect(reason.text()).toBe('A backup of this target is running.')
    expect(w.get('svg[role="img"]').attributes('aria-label')).toContain('shop')
  })

  it('starts a backup, toasts it, and reloads when the job is gone', async () => {
    const f = mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 2, name: 'wiki' })] },
      'GET /api/jobs': { body: [] },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/2/backups': { body: [] },
      'POST /api/targets/2/backup': { status: 202, body: makeBackup({ id: 12, target_id: 2, status: 'running' }) },
    })
    app = await mountApp('/')
    f.on('GET /api/jobs', { body: [makeJob({ id: 12, target_id: 2, target_name: 'wiki' })] })
    await button(app.wrapper, 'Back up now').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/targets/2/backup')).toHaveLength(1)
    expect(app.wrapper.get('[role="status"]').text()).toContain('Backup of "wiki" started.')
    expect(app.wrapper.text()).toContain('Running jobs')
    expect(app.wrapper.find('progress[aria-label="Backup wiki"]').exists()).toBe(true)

    const before = f.callsTo('GET /api/targets').length
    const { useJobsStore } = await import('@/stores')
    f.on('GET /api/jobs', { body: [] })
    f.on('GET /api/backups/12', { body: makeBackup({ id: 12, target_id: 2, status: 'failed', notes: 'disk full' }) })
    await useJobsStore().load()
    await flushPromises()
    expect(f.callsTo('GET /api/targets').length).toBeGreaterThan(before)
    expect(app.wrapper.get('[data-kind="error"]').text()).toContain('Backup of "wiki" failed: disk full')
  })

  it('reports a refused backup in a toast', async () => {
    mockFetch({
      'GET /api/targets': { body: [makeTarget()] },
      'GET /api/jobs': { body: [] },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/1/backups': { body: [] },
      'POST /api/targets/1/backup': { status: 409, body: { error: { code: 'conflict', message: 'a job is running' } } },
    })
    app = await mountApp('/')
    await button(app.wrapper, 'Back up now').trigger('click')
    await flushPromises()
    expect(app.wrapper.get('[role="alert"]').text()).toContain('shop: Not possible right now: a job is running')
  })

  it('offers a retry when the targets cannot be loaded', async () => {
    const f = mockFetch({
      'GET /api/targets': { status: 500, body: { error: { code: 'internal', message: 'db locked' } } },
      'GET /api/jobs': { body: [] },
      'GET /api/settings': { body: makeSettings() },
    })
    app = await mountApp('/')
    expect(app.wrapper.text()).toContain('Could not load: Internal server error; the server log has the details.')
    f.on('GET /api/targets', { body: [] })
    await button(app.wrapper, 'Try again').trigger('click')
    await flushPromises()
    expect(app.wrapper.text()).toContain('Create your first target')
    vi.clearAllTimers()
  })
})
