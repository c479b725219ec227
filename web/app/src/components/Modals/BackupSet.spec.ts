// A backup set (a target of every database, `*`): its details list the databases with a download
// each, and the restore dialog picks one of them, by default into the database of its own name.
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import BackupDetailsModal from './BackupDetailsModal.vue'
import RestoreGuardModal from './RestoreGuardModal.vue'
import type { RestoreRequest } from '@/services/api'
import { reportText } from '@/i18n/errors'
import { translate } from '@/i18n'
import { makeBackup, makeTarget, mockFetch, type FetchMock } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

const whole = makeTarget({ id: 1, name: 'db1', dbname: '*', exclude: 'test_*', host: 'db.lan' })
const staging = makeTarget({ id: 2, name: 'staging', dbname: 'stagedb', host: 'stage.lan' })
const set = makeBackup({
  file_name: 'db1_2026-12-06_02-00-00',
  databases: [
    { name: 'blog', file_name: 'blog.sql.gz', size_bytes: 2048, tables: 3, rows: 40 },
    { name: 'shop', file_name: 'shop.sql.gz', size_bytes: 4096, tables: 16, rows: 47000 },
  ],
})

describe('the details of a backup set', () => {
  it('lists its databases with size, tables and rows, each downloadable on its own', async () => {
    const w = mount(BackupDetailsModal, { props: { backup: set }, attachTo: document.body })
    const rows = w.get('[data-testid="set-databases"]').findAll('tbody tr')
    expect(rows.map((r) => r.get('th').text())).toEqual(['blog', 'shop'])
    expect(rows[1]!.text()).toContain('47,000')
    await rows[1]!.get('button[aria-label="Download shop"]').trigger('click')
    expect(w.emitted('download')![0]![0]).toMatchObject({ name: 'shop', file_name: 'shop.sql.gz' })
    w.unmount()
  })

  it('shows no database list for a backup of one database', () => {
    const w = mount(BackupDetailsModal, { props: { backup: makeBackup() }, attachTo: document.body })
    expect(w.find('[data-testid="set-databases"]').exists()).toBe(false)
    w.unmount()
  })
})

describe('restoring a database of a set', () => {
  let f: FetchMock
  function mountGuard() {
    f = mockFetch({ 'GET /api/targets': { body: [whole, staging] } })
    return mount(RestoreGuardModal, {
      props: { open: true, target: whole, backup: set, busy: false, error: null },
      attachTo: document.body,
    })
  }

  it('asks which database, then for that name, and restores it into its own name', async () => {
    const w = mountGuard()
    await flushPromises()
    expect(f.callsTo('GET /api/backups/5/contents')).toHaveLength(0) // a set lists its databases
    const restore = () => w.findAll('button').find((b) => b.text() === 'Restore database')!
    const source = w.get<HTMLSelectElement>('[data-testid="restore-source-database"]')
    expect(source.findAll('option').map((o) => o.text())).toEqual(['Choose…', 'blog', 'shop'])
    expect(w.text()).toContain('Into its own database')
    await w.get('[data-testid="restore-confirm"]').setValue('db1')
    expect(restore().attributes('disabled')).toBeDefined()
    await source.setValue('shop')
    expect(w.text()).toContain('Type "shop" to confirm')
    expect(restore().attributes('disabled')).toBeDefined()
    await w.get('[data-testid="restore-confirm"]').setValue('shop')
    await restore().trigger('click')
    const sent = w.emitted('confirm')![0]![0] as RestoreRequest
    expect(sent).toMatchObject({ confirm: 'shop', source_database: 'shop' })
    expect(sent.database).toBeUndefined()
    w.unmount()
  })

  it('restores it into another database by that name', async () => {
    const w = mountGuard()
    await flushPromises()
    await w.get<HTMLSelectElement>('[data-testid="restore-source-database"]').setValue('blog')
    await w.get('input[type="radio"][value="database"]').setValue(true)
    await w.get('[data-testid="restore-database"]').setValue('blog_copy')
    await w.get('[data-testid="restore-confirm"]').setValue('blog_copy')
    await w.findAll('button').find((b) => b.text() === 'Restore database')!.trigger('click')
    expect(w.emitted('confirm')![0]![0]).toMatchObject({ confirm: 'blog_copy', database: 'blog_copy', source_database: 'blog' })
    w.unmount()
  })
})

describe('the connection test of a whole server', () => {
  it('names the databases a backup would take, or says there are none', () => {
    const t = (k: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate('en', k, p)
    const report = { ok: true, server_version: '10.11', database_exists: true, can_read: true, message: 'connected; 2 database(s) to back up: blog, shop; not encrypted', tls_version: null, tls_cipher: null, databases: ['blog', 'shop'] }
    expect(reportText(report, t)).toBe('Connected: 10.11 · Would back up: blog, shop · not encrypted')
    expect(reportText({ ...report, ok: false, databases: [] }, t)).toBe('Connected, but the user sees no database to back up.')
    expect(translate('de', 'set.testDatabases', { names: 'blog' })).toBe('Würde sichern: blog')
  })
})
