import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { button, makeSettings, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'
import { credentials } from '@/services/api'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

const unauthorized = { status: 401, body: { error: { code: 'unauthorized', message: 'authentication required' } } }

describe('login', () => {
  it('a 401 from any page leads to the login form, and logging in leads back', async () => {
    const f = mockFetch({ 'GET /api/targets': unauthorized, 'GET /api/jobs': unauthorized, 'GET /api/settings': unauthorized })
    app = await mountApp('/targets')
    await flushPromises()
    expect(app.router.currentRoute.value.fullPath).toBe('/login?redirect=/targets')
    const w = app.wrapper
    expect(w.get('h1').text()).toBe('Log in to dumper')
    expect(w.find('nav[aria-label="Main navigation"]').exists()).toBe(false)

    await w.findAll('label').find((l) => l.text().includes('User name'))!.get('input').setValue('admin')
    await w.findAll('label').find((l) => l.text().includes('Password'))!.get('input').setValue('wrong')
    await button(w, 'Log in').trigger('click')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe('Wrong user name or password.')
    expect(credentials.get()).toBeNull()

    f.on('GET /api/settings', (call) =>
      call.headers.Authorization === `Basic ${btoa('admin:right')}` ? { body: makeSettings({ auth_enabled: true }) } : unauthorized,
    )
    f.on('GET /api/targets', { body: [makeTarget()] }).on('GET /api/jobs', { body: [] })
    await w.findAll('label').find((l) => l.text().includes('Password'))!.get('input').setValue('right')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(app.router.currentRoute.value.path).toBe('/targets')
    expect(credentials.get()).toBe(btoa('admin:right'))
    expect(f.calls[f.calls.length - 1]!.headers.Authorization).toBe(`Basic ${btoa('admin:right')}`)

    await button(w, 'Log out').trigger('click')
    await flushPromises()
    expect(credentials.get()).toBeNull()
    expect(app.router.currentRoute.value.path).toBe('/login')
  })

  it('says when the server throttles login attempts and ignores foreign redirects', async () => {
    mockFetch({ 'GET /api/settings': { status: 429, body: { error: { code: 'too_many_requests', message: 'wait' } } } })
    app = await mountApp('/login?redirect=//evil.example')
    const w = app.wrapper
    await w.findAll('label').find((l) => l.text().includes('User name'))!.get('input').setValue('admin')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toContain('Too many failed attempts')
  })
})
