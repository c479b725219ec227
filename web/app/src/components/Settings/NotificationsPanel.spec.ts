import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import NotificationsPanel from './NotificationsPanel.vue'
import type { Channel, Delivery } from '@/services/api'
import { mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))
afterEach(() => vi.unstubAllGlobals())

const hook: Channel = {
  id: 1, type: 'webhook', name: 'ops', events: ['backup_failed', 'target_stale'], enabled: true,
  url: 'https://hooks.example.org/x', topic: null, smtp_host: null, smtp_port: null, smtp_security: null,
  smtp_user: null, mail_from: null, mail_to: null, secrets_set: ['secret'], secrets_error: null,
  created_at: '2026-11-26T10:00:00Z', updated_at: '2026-11-26T10:00:00Z',
}
const delivery: Delivery = {
  id: 4, at: '2026-11-26T10:05:00Z', event: 'backup_failed', channel_id: 1, channel_name: 'ops',
  target_name: 'shop', ok: false, attempts: 4, result: 'HTTP 503: down',
}

describe('NotificationsPanel', () => {
  it('lists channels and the last deliveries with the receiver answer', async () => {
    mockFetch({ 'GET /api/notification-channels': { body: [hook] }, 'GET /api/notification-deliveries': { body: [delivery] } })
    const w = mount(NotificationsPanel)
    await flushPromises()
    expect(w.get('[data-channel="ops"]').text()).toContain('Backup failed, No recent backup (stale)')
    const row = w.get('[data-deliveries] tbody tr')
    expect(row.text()).toContain('backup_failed')
    expect(row.text()).toContain('not delivered')
    expect(row.text()).toContain('HTTP 503: down')
  })

  it('adds a channel with only its kind fields and shows what a test got back', async () => {
    const f = mockFetch({
      'GET /api/notification-channels': { body: [] },
      'GET /api/notification-deliveries': { body: [] },
      'POST /api/notification-channels': { status: 201, body: hook },
      'POST /api/notification-channels/1/test': { body: { ok: false, status: 401, message: 'HTTP 401: bad token' } },
    })
    const w = mount(NotificationsPanel)
    await flushPromises()
    await w.get('button.btn-primary').trigger('click')
    await w.get('select[name="type"]').setValue('ntfy')
    await w.get('input[name="name"]').setValue('phone')
    await w.get('input[name="url"]').setValue('https://ntfy.example.org')
    await w.get('input[name="topic"]').setValue('backups')
    expect(w.get('input[name="token"]').attributes('type')).toBe('password')
    f.on('GET /api/notification-channels', { body: [hook] })
    await w.get('form').trigger('submit')
    await flushPromises()
    const body = f.callsTo('POST /api/notification-channels')[0]!.body as Record<string, unknown>
    expect(body).toMatchObject({ type: 'ntfy', name: 'phone', url: 'https://ntfy.example.org', topic: 'backups' })
    expect('token' in body).toBe(false)
    expect(w.find('form').exists()).toBe(false)

    await w.get('button[aria-label="Send a test message to ops"]').trigger('click')
    await flushPromises()
    expect(w.get('[data-test-report]').text()).toBe('Test failed: HTTP 401: bad token')
  })

  it('shows the server field errors beside the inputs', async () => {
    mockFetch({
      'GET /api/notification-channels': { body: [] },
      'GET /api/notification-deliveries': { body: [] },
      'POST /api/notification-channels': {
        status: 422,
        body: { error: { code: 'invalid_input', message: 'invalid', fields: { url: 'must be an http:// or https:// URL' } } },
      },
    })
    const w = mount(NotificationsPanel)
    await flushPromises()
    await w.get('button.btn-primary').trigger('click')
    await w.get('input[name="name"]').setValue('x')
    await w.get('input[name="url"]').setValue('ftp://x')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('form').text()).toContain('http')
  })
})
