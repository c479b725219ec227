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
    props: { backups, busy: new Set<number>(), locked: false, now: new Date('2026-12-08T12:00:00Z') },
    global: { plugins: [router] },
  })
}

const at = '2026-12-08T03:01:00Z'

describe('BackupsTable and the file check', () => {
  it('flags a corrupt file with what differed, and a file that was missing but is back', () => {
    const w = render([
      makeBackup({ id: 1, file_check: { state: 'ok', checked_at: at, notes: '' } }),
      makeBackup({ id: 2, file_check: { state: 'corrupt', checked_at: at, notes: 'a.sql.gz has sha256 1234...' } }),
      makeBackup({ id: 3, file_check: { state: 'missing', checked_at: at, notes: 'gone' } }),
      makeBackup({ id: 4, file_exists: false, file_check: { state: 'missing', checked_at: at, notes: 'gone' } }),
      makeBackup({ id: 5 }),
    ])
    expect(w.find('tr[data-backup-id="1"] [data-file-check]').exists()).toBe(false)
    const corrupt = w.get('tr[data-backup-id="2"] [data-file-check]')
    expect(corrupt.text()).toBe('file corrupt')
    expect(corrupt.attributes('title')).toContain('a.sql.gz has sha256 1234...')
    expect(w.get('tr[data-backup-id="3"] [data-file-check]').text()).toBe('file was missing')
    // a file gone now already has the "file missing" badge: not a second one
    const gone = w.get('tr[data-backup-id="4"]')
    expect(gone.find('[data-file-check]').exists()).toBe(false)
    expect(gone.text()).toContain('file missing')
    expect(w.find('tr[data-backup-id="5"] [data-file-check]').exists()).toBe(false)
  })
})
