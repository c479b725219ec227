import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import TargetOpsFields from './TargetOpsFields.vue'
import { emptyOps } from '@/forms/targetOps'
import { mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

async function mountAt(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/targets/new', component: { template: '<div/>' } },
      { path: '/targets/:id/edit', component: { template: '<div/>' } },
    ],
  })
  await router.push(path)
  const ops = emptyOps()
  ops.keep.keep_last = '2'
  return mount(TargetOpsFields, { props: { modelValue: ops, retentionDays: '0' }, global: { plugins: [router] } })
}

describe('TargetOpsFields', () => {
  it('shows what the unsaved rules would keep and delete', async () => {
    vi.useFakeTimers()
    const f = mockFetch({
      'GET /api/targets/3/retention-preview': {
        body: {
          keep: [
            { id: 9, started_at: '2026-11-26T03:00:00Z', rules: ['newest', 'last'] },
            { id: 8, started_at: '2026-11-25T03:00:00Z', rules: ['last'] },
          ],
          delete: [{ id: 7, started_at: '2026-11-24T03:00:00Z' }],
        },
      },
    })
    const w = await mountAt('/targets/3/edit')
    await vi.advanceTimersByTimeAsync(350)
    await flushPromises()
    expect(f.calls.at(-1)!.url).toBe(
      '/api/targets/3/retention-preview?retention_days=0&keep_last=2&keep_daily=0&keep_weekly=0&keep_monthly=0&keep_yearly=0',
    )
    const preview = w.get('[data-retention-preview]')
    expect(preview.text()).toContain('keeps 2, deletes 1 backup(s)')
    expect(preview.findAll('[data-kept]')[0]!.text()).toContain('newest good, last')
    expect(preview.find('[data-deleted]').exists()).toBe(true)
  })

  it('asks nothing for a new target (it has no backups yet)', async () => {
    vi.useFakeTimers()
    const f = mockFetch({})
    const w = await mountAt('/targets/new')
    await vi.advanceTimersByTimeAsync(350)
    expect(f.calls).toHaveLength(0)
    expect(w.find('[data-retention-preview]').exists()).toBe(false)
  })

  it('offers 1 to 4 connections, says what more than one needs, and sets the number', async () => {
    mockFetch({})
    const w = await mountAt('/targets/new')
    const select = w.get('select[name="parallel_connections"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['1', '2', '3', '4'])
    expect(w.text()).toContain('RELOAD privilege')
    await select.setValue('3')
    const ops = w.props('modelValue') as ReturnType<typeof emptyOps>
    expect(ops.parallel_connections).toBe(3)
  })
})
