import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import LastSuccess from './LastSuccess.vue'
import { makeTarget } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
const now = new Date('2026-11-26T12:00:00Z')

describe('LastSuccess', () => {
  it('says when the last good backup was and how big it is', () => {
    const w = mount(LastSuccess, {
      props: { target: makeTarget({ last_success_at: '2026-11-26T09:00:05Z', last_success_size_bytes: 24 * 1024 * 1024 }), now },
    })
    expect(w.text()).toBe('3 h ago, 24.0 MiB')
    expect(w.find('[data-stale]').exists()).toBe(false)
  })

  it('flags a stale target and says when there never was a good backup', () => {
    const w = mount(LastSuccess, {
      props: { target: makeTarget({ last_success_at: null, last_success_size_bytes: null, stale: true }), now },
    })
    expect(w.text()).toContain('never')
    expect(w.get('[data-stale]').text()).toBe('overdue')
  })
})
