import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import BackupsTable from './BackupsTable.vue'
import { makeBackup } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

function render(backups: ReturnType<typeof makeBackup>[]) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:p(.*)*', component: { template: '<div/>' } }] })
  return mount(BackupsTable, {
    props: { backups, busy: new Set<number>(), locked: false, now: new Date('2026-11-26T12:00:00Z') },
    global: { plugins: [router] },
  })
}

describe('BackupsTable', () => {
  it('shows how a backup verified, and offers Verify now only on a successful backup', async () => {
    const at = '2026-11-26T03:01:00Z'
    const w = render([
      makeBackup({ id: 7, verification: { status: 'passed', started_at: at, finished_at: at, notes: '2 tables' } }),
      makeBackup({ id: 8, verification: { status: 'failed', started_at: at, finished_at: at, notes: 'table t: 1 rows' } }),
      makeBackup({ id: 9, status: 'failed', file_name: null, file_exists: false }),
    ])
    expect(w.get('tr[data-backup-id="7"] [data-verification]').text()).toBe('verified')
    const failed = w.get('tr[data-backup-id="8"] [data-verification]')
    expect(failed.text()).toBe('verification failed')
    expect(failed.attributes('title')).toBe('table t: 1 rows')
    expect(w.find('tr[data-backup-id="9"] [data-action="verify"]').exists()).toBe(false)
    await w.get('tr[data-backup-id="7"] [data-action="verify"]').trigger('click')
    expect(w.emitted('verify')?.[0]?.[0]).toMatchObject({ id: 7 })
  })

  it('shows no verification badge for a backup never verified', () => {
    const w = render([makeBackup({ id: 6 })])
    expect(w.find('[data-verification]').exists()).toBe(false)
  })

  it('shows why a backup failed in its row, with a way to fix the connection', () => {
    const w = render([
      makeBackup({
        id: 3, status: 'failed', file_name: null, file_exists: false, size_bytes: null,
        notes: 'cannot connect to db.lan:3306: (2003) refused', error_code: 'connection_failed',
      }),
    ])
    const row = w.get('tr[data-backup-id="3"]')
    expect(row.text()).toContain('cannot connect to db.lan:3306: (2003) refused')
    const link = row.get('a[data-fix="target"]')
    expect(link.attributes('href')).toBe('/targets/1/edit')
    expect(link.text()).toBe('Edit the target')
    expect(row.find('[data-file]').exists()).toBe(false)
  })

  it('offers no edit link when the failure is not about the connection or the password', () => {
    const w = render([makeBackup({ id: 4, status: 'failed', notes: 'disk full', error_code: 'dump_failed', file_name: null })])
    expect(w.get('tr[data-backup-id="4"]').text()).toContain('disk full')
    expect(w.find('a[data-fix="target"]').exists()).toBe(false)
  })

  it('marks a cancelled backup as cancelled, not failed', () => {
    const w = render([makeBackup({ id: 6, status: 'cancelled', notes: 'cancelled by the user', file_name: null })])
    const badge = w.get('tr[data-backup-id="6"] [data-status]')
    expect(badge.attributes('data-status')).toBe('cancelled')
    expect(badge.text()).toBe('cancelled')
    expect(badge.classes()).not.toContain('badge-error')
  })
})
