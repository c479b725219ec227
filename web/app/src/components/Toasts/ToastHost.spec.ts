import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import ToastHost from './ToastHost.vue'
import { useToastStore } from '@/stores'

beforeEach(() => setActivePinia(createPinia()))

describe('toast host', () => {
  it('announces errors as alerts and other toasts as status, and dismisses on click', async () => {
    const w = mount(ToastHost)
    const toasts = useToastStore()
    toasts.success('Saved.')
    toasts.push('error', 'Backup failed: disk full')
    await w.vm.$nextTick()
    expect(w.get('[role="status"]').text()).toContain('Saved.')
    expect(w.get('[role="alert"]').text()).toContain('Backup failed: disk full')
    await w.get('[role="status"] button').trigger('click')
    expect(w.find('[role="status"]').exists()).toBe(false)
    expect(toasts.toasts).toHaveLength(1)
  })

  it('shows the newest three and folds the older ones into one line that can clear them all', async () => {
    const w = mount(ToastHost)
    const toasts = useToastStore()
    for (let i = 1; i <= 6; i++) toasts.push('error', `problem ${i}`)
    toasts.push('error', 'problem 6')
    await w.vm.$nextTick()
    const shown = w.findAll('[data-kind]')
    expect(shown.map((s) => s.text().replace('✕', '').trim())).toEqual(['problem 4', 'problem 5', 'problem 6 (×2)'])
    const more = w.get('[data-testid="toast-more"]')
    expect(more.text()).toContain('3 older messages')
    await more.get('button').trigger('click')
    expect(toasts.toasts).toHaveLength(0)
  })
})
