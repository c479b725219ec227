import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import FileCheckPanel from './FileCheckPanel.vue'
import { usePrefsStore, useToastStore } from '@/stores'
import { makeSettings, mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

const idle = makeSettings().file_check

describe('FileCheckPanel', () => {
  it('says when the check ran and what it found', () => {
    const w = mount(FileCheckPanel, {
      props: {
        check: { ...idle, last_started_at: '2026-11-26T03:00:00Z', last_finished_at: '2026-11-26T03:04:00Z', checked: 12, corrupt: 1, missing: 2 },
      },
    })
    expect(w.get('[data-interval]').text()).toBe('every 168 h (FILE_CHECK_INTERVAL_HOURS)')
    expect(w.get('[data-last-run]').text()).toContain('12 file(s) checked')
    expect(w.get('[data-result]').text()).toBe('1 corrupt, 2 missing')
    expect(w.get('[data-next-run]').text()).not.toBe('')
  })

  it('says the periodic check is off, that none ran yet, and no problem', () => {
    const w = mount(FileCheckPanel, { props: { check: { ...idle, interval_hours: 0, next_run_at: null } } })
    expect(w.get('[data-interval]').text()).toContain('only when started here')
    expect(w.get('[data-last-run]').text()).toBe('never')
    expect(w.find('[data-next-run]').exists()).toBe(false)
    expect(w.get('[data-result]').text()).toBe('no problem found')
  })

  it('starts a check by hand and asks for the new state', async () => {
    const f = mockFetch({ 'POST /api/file-check': { status: 202, body: { ...idle, running: true } } })
    const w = mount(FileCheckPanel, { props: { check: idle } })
    await w.get('[data-action="file-check"]').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/file-check')).toHaveLength(1)
    expect(w.emitted('changed')).toHaveLength(1)
    expect(useToastStore().toasts[0]?.message).toBe('The check of the backup files started.')
  })

  it('reports a check already running (409) and reloads every 2 s while one runs', async () => {
    mockFetch({ 'POST /api/file-check': { status: 409, body: { error: { code: 'conflict', message: 'a file check is already running' } } } })
    const w = mount(FileCheckPanel, { props: { check: idle } })
    await w.get('[data-action="file-check"]').trigger('click')
    await flushPromises()
    expect(useToastStore().toasts[0]?.kind).toBe('error')

    vi.useFakeTimers()
    await w.setProps({ check: { ...idle, running: true } })
    const button = w.get('[data-action="file-check"]')
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.text()).toBe('Checking…')
    vi.advanceTimersByTime(4100)
    expect(w.emitted('changed')).toHaveLength(2)
    await w.setProps({ check: { ...idle, running: false } })
    vi.advanceTimersByTime(10_000)
    expect(w.emitted('changed')).toHaveLength(2)
  })

  it('speaks German', () => {
    usePrefsStore().setLocale('de')
    const w = mount(FileCheckPanel, { props: { check: idle } })
    expect(w.get('h2').text()).toBe('Backup-Dateien')
    expect(w.get('[data-action="file-check"]').text()).toBe('Jetzt prüfen')
  })
})
