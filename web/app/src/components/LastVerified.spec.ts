import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import LastVerified from './LastVerified.vue'
import { makeTarget } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
const now = new Date('2026-11-26T12:00:00Z')

describe('LastVerified', () => {
  it('says that the last verification passed and when', () => {
    const last = { backup_id: 5, passed: true, finished_at: '2026-11-26T09:00:05Z' }
    const w = mount(LastVerified, { props: { target: makeTarget({ last_verification: last }), now } })
    expect(w.text()).toBe('verified3 h ago')
    expect(w.get('[data-passed]').attributes('data-passed')).toBe('true')
    expect(w.find('.badge-success').exists()).toBe(true)
  })

  it('shows a failed one as failed, and never when none has ended', () => {
    const last = { backup_id: 5, passed: false, finished_at: '2026-11-26T11:00:00Z' }
    const failed = mount(LastVerified, { props: { target: makeTarget({ last_verification: last }), now } })
    expect(failed.text()).toContain('verification failed')
    expect(failed.find('.badge-error').exists()).toBe(true)
    const none = mount(LastVerified, { props: { target: makeTarget({ last_verification: null }), now } })
    expect(none.text()).toBe('never')
  })
})
