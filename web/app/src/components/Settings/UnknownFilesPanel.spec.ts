import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import UnknownFilesPanel from './UnknownFilesPanel.vue'
import { useToastStore } from '@/stores'
import { makeBackup, makeTarget, mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

const files = [
  { name: 'old.sql.gz', size_bytes: 2048, modified_at: '2026-11-20T00:00:00Z' },
  { name: 'cut.sql', size_bytes: 10, modified_at: '2026-11-21T00:00:00Z' },
]

describe('UnknownFilesPanel', () => {
  it('makes a found file a backup of the chosen target and asks for the new state', async () => {
    const f = mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 4, name: 'shop' }), makeTarget({ id: 5, name: 'blog' })] },
      'POST /api/backups/adopt': { status: 201, body: makeBackup({ id: 8, target_name: 'shop', trigger: 'upload' }) },
    })
    const w = mount(UnknownFilesPanel, { props: { files } })
    await flushPromises()
    const row = w.get('[data-file="old.sql.gz"]')
    expect(row.get('[data-action="adopt"]').attributes('disabled')).toBeDefined()
    expect(row.findAll('option').map((o) => o.text())).toEqual(['Choose a target', 'blog', 'shop'])
    await row.get('select').setValue('4')
    await row.get('[data-action="adopt"]').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/backups/adopt')[0]?.body).toEqual({ filename: 'old.sql.gz', target_id: 4 })
    expect(w.emitted('changed')).toHaveLength(1)
    expect(useToastStore().toasts[0]?.message).toBe('old.sql.gz is a backup of shop now.')
  })

  it('shows why a file was refused on its row', async () => {
    mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 4, name: 'shop' })] },
      'POST /api/backups/adopt': {
        status: 422,
        body: { error: { code: 'backup_corrupt', message: 'the file is incomplete: it ends inside a statement', fields: {} } },
      },
    })
    const w = mount(UnknownFilesPanel, { props: { files } })
    await flushPromises()
    const row = w.get('[data-file="cut.sql"]')
    await row.get('select').setValue('4')
    await row.get('[data-action="adopt"]').trigger('click')
    await flushPromises()
    expect(row.get('[data-testid="adopt-error"]').text()).toBe(
      'The backup file is damaged: the file is incomplete: it ends inside a statement',
    )
    expect(w.emitted('changed')).toBeUndefined()
  })

  it('without targets it says to create one first and offers no action', async () => {
    mockFetch({ 'GET /api/targets': { body: [] } })
    const w = mount(UnknownFilesPanel, { props: { files } })
    await flushPromises()
    expect(w.text()).toContain('Create a target first')
    expect(w.find('[data-action="adopt"]').exists()).toBe(false)
  })
})
