import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import HistoryChart from './HistoryChart.vue'
import { makeBackup } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

describe('history chart', () => {
  it('says so when there is nothing to chart', () => {
    const w = mount(HistoryChart, { props: { backups: [makeBackup({ status: 'failed', size_bytes: null })], name: 'shop' } })
    expect(w.find('svg').exists()).toBe(false)
    expect(w.text()).toContain('No finished backups')
  })

  it('draws one point per successful backup, oldest left, scaled to the largest', () => {
    const backups = [
      makeBackup({ id: 3, started_at: '2026-11-03T03:00:00Z', size_bytes: 300, duration_seconds: 3 }),
      makeBackup({ id: 1, started_at: '2026-11-01T03:00:00Z', size_bytes: 100, duration_seconds: 1 }),
      makeBackup({ id: 2, started_at: '2026-11-02T03:00:00Z', status: 'failed', size_bytes: null }),
      makeBackup({ id: 4, started_at: '2026-11-04T03:00:00Z', status: 'running', size_bytes: null }),
    ]
    const w = mount(HistoryChart, { props: { backups, name: 'shop' } })
    expect(w.get('svg').attributes('aria-label')).toBe('Backup size and duration over time for shop')
    const circles = w.findAll('circle')
    expect(circles).toHaveLength(2)
    const [a, b] = circles.map((c) => ({ x: Number(c.attributes('cx')), y: Number(c.attributes('cy')) }))
    expect(a!.x).toBeLessThan(b!.x)
    expect(a!.y).toBeGreaterThan(b!.y) // smaller backup sits lower
    expect(w.text()).toContain('300 B')
  })

  it('keeps only the most recent points', () => {
    const backups = Array.from({ length: 40 }, (_, i) =>
      makeBackup({ id: i + 1, started_at: `2026-10-${String((i % 28) + 1).padStart(2, '0')}T${String(Math.floor(i / 28)).padStart(2, '0')}:00:00Z` }),
    )
    const w = mount(HistoryChart, { props: { backups, name: 'shop', max: 30 } })
    expect(w.findAll('circle')).toHaveLength(30)
  })
})
