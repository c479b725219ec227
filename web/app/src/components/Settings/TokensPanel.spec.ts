import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import TokensPanel from './TokensPanel.vue'
import { mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

const token = { id: 1, name: 'grafana', scope: 'read', hint: 'dmp_Ab3x', created_at: '2026-11-26T10:00:00Z', last_used_at: null }

describe('TokensPanel', () => {
  it('lists tokens, creates one and shows its secret once, revokes one', async () => {
    const f = mockFetch({
      'GET /api/tokens': { body: [token] },
      'POST /api/tokens': { status: 201, body: { ...token, id: 2, name: 'ci', scope: 'full', token: 'dmp_secret123' } },
      'DELETE /api/tokens/1': { status: 204 },
    })
    const w = mount(TokensPanel, { props: { authEnabled: true }, attachTo: document.body })
    await flushPromises()
    expect(w.get('[data-token="grafana"]').text()).toContain('read')
    expect(w.find('[data-auth-off]').exists()).toBe(false)

    await w.get('input[name="token-name"]').setValue('ci')
    await w.get('select[name="token-scope"]').setValue('full')
    f.on('GET /api/tokens', { body: [token, { ...token, id: 2, name: 'ci', scope: 'full' }] })
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(f.callsTo('POST /api/tokens')[0]!.body).toEqual({ name: 'ci', scope: 'full' })
    expect(w.get('[data-new-token]').text()).toContain('dmp_secret123')

    f.on('GET /api/tokens', { body: [{ ...token, id: 2, name: 'ci', scope: 'full' }] })
    await w.get('[data-token="grafana"] button').trigger('click')
    await flushPromises()
    expect(f.callsTo('DELETE /api/tokens/1')).toHaveLength(1)
    expect(w.find('[data-token="grafana"]').exists()).toBe(false)
    w.unmount()
  })

  it('says tokens do nothing while authentication is off', async () => {
    mockFetch({ 'GET /api/tokens': { body: [] } })
    const w = mount(TokensPanel, { props: { authEnabled: false } })
    await flushPromises()
    expect(w.get('[data-auth-off]').text()).toContain('ADMIN_USER')
  })
})
