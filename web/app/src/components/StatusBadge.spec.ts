import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import StatusBadge from './StatusBadge.vue'

beforeEach(() => setActivePinia(createPinia()))

describe('StatusBadge', () => {
  it('shows a success with warnings as its own status, in the warning colour', () => {
    const w = mount(StatusBadge, { props: { status: 'success', warnings: 2 } })
    expect(w.text()).toBe('success with warnings')
    expect(w.classes()).toContain('badge-warning')
    expect(w.attributes('data-warnings')).toBe('2')
  })

  it('shows a plain success without warnings, and warnings only on a success', () => {
    const ok = mount(StatusBadge, { props: { status: 'success', warnings: 0 } })
    expect(ok.text()).toBe('success')
    expect(ok.classes()).toContain('badge-success')
    expect(ok.attributes('data-warnings')).toBeUndefined()
    const failed = mount(StatusBadge, { props: { status: 'failed', warnings: 1 } })
    expect(failed.text()).toBe('failed')
  })
})
