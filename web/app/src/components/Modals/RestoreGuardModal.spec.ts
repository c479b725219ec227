import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import RestoreGuardModal from './RestoreGuardModal.vue'
import { ApiError, type Target } from '@/services/api'
import type { BackupContents } from '@/services/api-types'
import { makeBackup, makeTarget, mockFetch, type FetchMock } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

const shop = makeTarget({ id: 1, name: 'shop', dbname: 'shopdb', host: 'db.lan', port: 3306 })
const staging = makeTarget({ id: 2, name: 'staging', dbname: 'stagedb', host: 'stage.lan', port: 3307 })

function contents(over: Partial<BackupContents> = {}): BackupContents {
  return {
    backup_id: 5, producer: 'dumper', complete: true, why: 'marker', databases: [],
    tables: [{ name: 'film', rows: 1000 }, { name: 'actor', rows: 200 }, { name: 'city', rows: 600 }],
    views: [], routines: [], triggers: [], events: [],
    ...over,
  }
}

let f: FetchMock
function mountGuard(opts: { busy?: boolean; contents?: BackupContents; error?: unknown; targets?: Target[] } = {}) {
  f = mockFetch({
    'GET /api/backups/5/contents': { body: opts.contents ?? contents() },
    'GET /api/targets': { body: opts.targets ?? [shop, staging] },
  })
  return mount(RestoreGuardModal, {
    props: { open: true, target: shop, backup: makeBackup(), busy: opts.busy ?? false, error: opts.error ?? null },
    attachTo: document.body,
  })
}
type W = ReturnType<typeof mountGuard>

function confirmButton(w: W) {
  return w.findAll('button').find((b) => b.text() === 'Restore database')!
}
const confirmInput = (w: W) => w.get<HTMLInputElement>('[data-testid="restore-confirm"]')

describe('restore dialog', () => {
  it('says which database is overwritten and that it cannot be undone', async () => {
    const w = mountGuard()
    await flushPromises()
    const dialog = w.get('[role="dialog"]')
    expect(dialog.attributes('aria-modal')).toBe('true')
    expect(dialog.text()).toContain('Restore database "shopdb"?')
    expect(dialog.text()).toContain('database "shopdb" on db.lan:3306 will be overwritten')
    expect(dialog.text()).toContain('This cannot be undone.')
    w.unmount()
  })

  it('labels the input with the name to type', async () => {
    const w = mountGuard()
    await flushPromises()
    const label = w.get(`label[for="${confirmInput(w).attributes('id')}"]`)
    expect(label.text()).toBe('Type "shop" to confirm')
    w.unmount()
  })

  it('keeps the button disabled until the exact target name is typed, then sends this target', async () => {
    const w = mountGuard()
    await flushPromises()
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    for (const wrong of ['', 'sho', 'Shop', ' shop', 'shop ', 'shopdb']) {
      await confirmInput(w).setValue(wrong)
      expect(confirmButton(w).attributes('disabled'), wrong).toBeDefined()
    }
    await confirmInput(w).setValue('shop')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false }]])
    w.unmount()
  })

  it('submits with Enter only when the name matches', async () => {
    const w = mountGuard()
    await flushPromises()
    await confirmInput(w).setValue('shap')
    await w.get('form').trigger('submit')
    expect(w.emitted('confirm')).toBeUndefined()
    await confirmInput(w).setValue('shop')
    await w.get('form').trigger('submit')
    expect(w.emitted('confirm')).toHaveLength(1)
    w.unmount()
  })

  it('stays disabled while the restore request runs and clears the input when reopened', async () => {
    const w = mountGuard({ busy: true })
    await flushPromises()
    await confirmInput(w).setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await w.setProps({ busy: false, open: false })
    await w.setProps({ open: true })
    await flushPromises()
    expect(confirmInput(w).element.value).toBe('')
    w.unmount()
  })

  it('restores into another saved target, confirmed by that target name', async () => {
    const w = mountGuard()
    await flushPromises()
    await w.get('input[value="target"]').setValue(true)
    const select = w.get<HTMLSelectElement>('[data-testid="restore-other-target"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['staging (stagedb @ stage.lan:3307)'])
    await select.setValue('2')
    expect(w.text()).toContain('Type "staging" to confirm')
    expect(w.text()).toContain('database "stagedb" on stage.lan:3307 will be overwritten')
    await confirmInput(w).setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await confirmInput(w).setValue('staging')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'staging', target_id: 2, clean: false }]])
    w.unmount()
  })

  it('restores into a database by name on this server, confirmed by the database name', async () => {
    const w = mountGuard()
    await flushPromises()
    await w.get('input[value="database"]').setValue(true)
    await w.get('[data-testid="restore-database"]').setValue('shop_copy')
    expect(w.text()).toContain('Type "shop_copy" to confirm')
    expect(w.text()).toContain('database "shop_copy" on db.lan:3306')
    await confirmInput(w).setValue('shop_copy')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop_copy', database: 'shop_copy', clean: false }]])
    w.unmount()
  })

  it('sends no definer by default (the server decides) and the one chosen otherwise', async () => {
    const w = mountGuard()
    await flushPromises()
    const definer = w.get('[data-testid="restore-definer"]')
    expect((definer.element as HTMLSelectElement).value).toBe('')
    expect(w.text()).toContain('a rewrite is recorded in the restore')
    await definer.setValue('current_user')
    await confirmInput(w).setValue('shop')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false, definer: 'current_user' }]])
    w.unmount()
  })

  it('says what clean does, and sends it', async () => {
    const w = mountGuard()
    await flushPromises()
    const clean = w.get('[data-testid="restore-clean"]')
    expect(w.text()).toContain('what is not in the backup stays')
    await clean.setValue(true)
    expect(w.text()).toContain('Tables, views, routines, triggers and events that are not in the backup are dropped.')
    await confirmInput(w).setValue('shop')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: true }]])
    w.unmount()
  })

  it('lists the tables of the backup, all chosen; choosing some sends only those and says the rest stays', async () => {
    const w = mountGuard()
    await flushPromises()
    expect(f.callsTo('GET /api/backups/5/contents')).toHaveLength(1)
    const boxes = w.findAll<HTMLInputElement>('[data-testid="restore-table"]')
    expect(boxes.map((b) => b.element.value)).toEqual(['actor', 'city', 'film'])
    expect(boxes.every((b) => b.element.checked)).toBe(true)
    expect(w.text()).toContain('1,000')
    await boxes[1]!.setValue(false)
    expect(w.text()).toContain('Only the 2 chosen tables are restored; the other tables of the destination stay untouched.')
    await confirmInput(w).setValue('shop')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false, tables: ['actor', 'film'] }]])
    w.unmount()
  })

  it('needs at least one table', async () => {
    const w = mountGuard()
    await flushPromises()
    await w.get('[data-testid="restore-tables-none"]').trigger('click')
    await confirmInput(w).setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await w.get('[data-testid="restore-tables-all"]').trigger('click')
    expect(confirmButton(w).attributes('disabled')).toBeUndefined()
    w.unmount()
  })

  it('asks to acknowledge a file nothing proves complete', async () => {
    const w = mountGuard({ contents: contents({ producer: 'mysqldump', why: 'unmarked' }) })
    await flushPromises()
    await confirmInput(w).setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await w.get('[data-testid="restore-accept-unmarked"]').setValue(true)
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false, accept_unmarked: true }]])
    w.unmount()
  })

  it('asks which database to take from a file that holds several', async () => {
    const w = mountGuard({ contents: contents({ databases: ['shop', 'blog'] }) })
    await flushPromises()
    await confirmInput(w).setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await w.get('[data-testid="restore-source-database"]').setValue('blog')
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false, source_database: 'blog' }]])
    w.unmount()
  })

  it('shows server errors in the UI language, next to the field they name', async () => {
    const error = new ApiError(422, 'invalid_input', 'invalid restore request', {
      database: 'must be 1 to 64 letters, digits, _, $ or -',
    })
    const w = mountGuard({ error })
    await flushPromises()
    await w.get('input[value="database"]').setValue(true)
    expect(w.get('[data-testid="restore-database-error"]').text()).toContain('must be 1 to 64 letters')
    expect(w.get('[data-testid="restore-error"]').text()).not.toBe('')
    w.unmount()
  })
})
