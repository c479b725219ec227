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
})
