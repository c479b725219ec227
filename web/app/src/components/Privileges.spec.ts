// What a backup user may not see and cancelling a verification, in the UI: a success with
// warnings in the backups list, the details and the target card; the card's last verified
// backup; a running verification's cancel button; the strict toggle of the target form.
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import BackupDetailsModal from '@/components/Modals/BackupDetailsModal.vue'
import { emptyOps, opsFromTarget, opsInput } from '@/forms/targetOps'
import { makeBackup, makeJob, makeSettings, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

const GRANT = 'events that the backup user cannot see are not in this backup: GRANT EVENT ON `shopdb`.* TO the backup user'
let app: Mounted | null = null
beforeEach(() => setActivePinia(createPinia()))
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

describe('success with warnings', () => {
  it('is its own status in the backups list, with each warning in the row', async () => {
    mockFetch({
      'GET /api/targets/1': { body: makeTarget() },
      'GET /api/targets/1/backups': { body: [makeBackup({ id: 7, warnings: [GRANT] }), makeBackup({ id: 6 })] },
    })
    app = await mountApp('/targets/1/backups')
    const row = app.wrapper.get('tr[data-backup-id="7"]')
    expect(row.get('[data-status="success"]').text()).toBe('success with warnings')
    expect(row.get('[data-warnings] li').text()).toBe(GRANT)
    const plain = app.wrapper.get('tr[data-backup-id="6"]')
    expect(plain.get('[data-status="success"]').text()).toBe('success')
    expect(plain.find('ul[data-warnings]').exists()).toBe(false)
  })

  it('is listed in the backup details', () => {
    const w = mount(BackupDetailsModal, { props: { backup: makeBackup({ warnings: [GRANT], notes: GRANT }) }, attachTo: document.body })
    const dialog = document.body.querySelector('[role="dialog"]')!
    expect(dialog.textContent).toContain('success with warnings')
    expect(dialog.querySelector('ul[data-warnings] li')?.textContent).toBe(GRANT)
    w.unmount()
  })

  it('shows on the target card, beside the last verified backup', async () => {
    mockFetch({
      'GET /api/targets': {
        body: [
          makeTarget({
            id: 1,
            last_backup_warnings: 1,
            last_verification: { backup_id: 5, passed: true, finished_at: new Date(Date.now() - 2 * 3600e3).toISOString() },
          }),
          makeTarget({ id: 2, name: 'wiki' }),
        ],
      },
      'GET /api/jobs': { body: [] },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/1/backups': { body: [makeBackup()] },
    })
    app = await mountApp('/')
    const shop = app.wrapper.get('article[data-target="shop"]')
    expect(shop.get('[data-status="success"]').text()).toBe('success with warnings')
    expect(shop.get('[data-last-verified]').text()).toBe('verified2 h ago')
    const wiki = app.wrapper.get('article[data-target="wiki"]')
    expect(wiki.get('[data-status="success"]').text()).toBe('success')
    expect(wiki.get('[data-last-verified]').text()).toBe('never')
  })
})

describe('cancelling a verification', () => {
  const at = '2026-11-26T10:00:00Z'
  const verifying = makeBackup({ id: 5, verification: { status: 'running', started_at: at, finished_at: null, notes: '' } })

  it('offers a cancel on the verifying backup that stops it through the backup', async () => {
    const f = mockFetch({
      'GET /api/targets/1': { body: makeTarget({ running_job: { kind: 'verify', id: 5 } }) },
      'GET /api/targets': { body: [makeTarget({ running_job: { kind: 'verify', id: 5 } })] },
      'GET /api/jobs': { body: [makeJob({ kind: 'verify', id: 5, target_id: 1 })] },
      'GET /api/targets/1/backups': { body: [verifying, makeBackup({ id: 4 })] },
      'POST /api/backups/5/cancel': { status: 202, body: verifying },
    })
    app = await mountApp('/targets/1/backups')
    expect(app.wrapper.get('tr[data-backup-id="4"]').find('button[aria-label="Cancel verification"]').exists()).toBe(false)
    await app.wrapper.get('tr[data-backup-id="5"] button[aria-label="Cancel verification"]').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/backups/5/cancel')).toHaveLength(1)
    expect(app.wrapper.get('[data-kind="success"]').text()).toContain(
      'Verification of "shop" is being cancelled; its scratch database is dropped.',
    )
  })

  it('sends a verify job of the dashboard to the backup\'s cancel, not a restore\'s', async () => {
    const f = mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 1, running_job: { kind: 'verify', id: 5 } })] },
      'GET /api/jobs': { body: [makeJob({ kind: 'verify', id: 5, target_id: 1 })] },
      'GET /api/settings': { body: makeSettings() },
      'GET /api/targets/1/backups': { body: [verifying] },
      'POST /api/backups/5/cancel': { status: 202, body: verifying },
    })
    app = await mountApp('/')
    await app.wrapper.get('button[aria-label="Cancel verification"]').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/backups/5/cancel')).toHaveLength(1)
    expect(f.callsTo('POST /api/restores/5/cancel')).toHaveLength(0)
  })
})

describe('strict mode in the target form', () => {
  it('is off by default and goes to the server as set', () => {
    expect(emptyOps().strict).toBe(false)
    expect(opsInput(emptyOps()).strict).toBe(false)
    expect(opsInput(opsFromTarget(makeTarget({ strict: true }))).strict).toBe(true)
  })

  it('has a toggle with its help text on the edit page', async () => {
    const target = makeTarget({ strict: true })
    mockFetch({ 'GET /api/targets/1': { body: target }, 'GET /api/targets': { body: [target] }, 'GET /api/jobs': { body: [] } })
    app = await mountApp('/targets/1/edit')
    const toggle = app.wrapper.get('input[name="strict"]')
    expect((toggle.element as HTMLInputElement).checked).toBe(true)
    expect(app.wrapper.text()).toContain('Strict: fail when the backup user may not see every object')
    expect(app.wrapper.text()).toContain('silently hides views, triggers, events and routines')
  })
})
