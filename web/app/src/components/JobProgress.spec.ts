import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import JobProgress from './JobProgress.vue'

beforeEach(() => setActivePinia(createPinia()))

describe('job progress', () => {
  it('says "starting" until the first figures arrive, instead of 0 of 0 tables', () => {
    const fresh = { bytes_written: 0, rows: 0, table: null, tables_done: 0, tables_total: 0 }
    for (const progress of [fresh, null]) {
      const w = mount(JobProgress, { props: { kind: 'backup', progress, label: 'Backup shop' } })
      expect(w.text()).toBe('starting…')
      expect(w.get('progress').attributes('value')).toBeUndefined() // indeterminate
    }
    const queued = mount(JobProgress, { props: { kind: 'restore', progress: { bytes_read: 0, bytes_total: 0, statements: 0 }, label: 'Restore' } })
    expect(queued.text()).toBe('starting…')
  })

  it('shows the figures once there are some, in the chosen language', () => {
    localStorage.setItem('dumper.locale', 'de')
    setActivePinia(createPinia())
    const w = mount(JobProgress, {
      props: { kind: 'backup', progress: { bytes_written: 1536, rows: 4700, table: 'orders', tables_done: 1, tables_total: 4 }, label: 'x' },
    })
    expect(w.text()).toContain('1 von 4 Tabellen · 4.700 Zeilen · 1,50 KiB')
  })
})
