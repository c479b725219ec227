import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { button, makeSettings, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'
import { credentials, encodeBasic } from '@/services/api'
import { usePrefsStore } from '@/stores'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
  vi.useRealTimers()
})

function input(w: Mounted['wrapper'], label: string) {
  return w.findAll('label').find((l) => l.text().includes(label))!.get('input')
}

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

  it('keeps the login for this tab only, unless asked to remember it on this device', async () => {
    const f = mockFetch({ 'GET /api/targets': unauthorized, 'GET /api/jobs': unauthorized, 'GET /api/settings': unauthorized })
    app = await mountApp('/targets')
    await flushPromises()
    const w = app.wrapper
    const remember = input(w, 'Remember on this device')
    expect(remember.attributes('type')).toBe('checkbox')
    expect((remember.element as HTMLInputElement).checked).toBe(false)
    expect(w.text()).toContain('anyone using this browser')
    f.on('GET /api/settings', { body: makeSettings({ auth_enabled: true }) })
      .on('GET /api/targets', { body: [makeTarget()] })
      .on('GET /api/jobs', { body: [] })
    await input(w, 'User name').setValue('admin')
    await input(w, 'Password').setValue('right')
    await remember.setValue(true)
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(app.router.currentRoute.value.path).toBe('/targets')
    expect(localStorage.getItem('dumper.credentials')).toBe(encodeBasic('admin', 'right'))
    expect(sessionStorage.getItem('dumper.credentials')).toBeNull()

    await button(w, 'Log out').trigger('click')
    await flushPromises()
    expect(localStorage.getItem('dumper.credentials')).toBeNull()
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

  it('counts down how long the server refuses logins, with the button disabled until then', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const f = mockFetch({
      'GET /api/settings': { status: 429, headers: { 'Retry-After': '3' }, body: { error: { code: 'too_many_requests', message: 'wait' } } },
    })
    app = await mountApp('/login')
    const w = app.wrapper
    await input(w, 'User name').setValue('admin')
    await input(w, 'Password').setValue('pw')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[role="alert"]').text()).toBe('Too many failed logins. Try again in 3 s.')
    expect(button(w, 'Log in').element.disabled).toBe(true)

    vi.advanceTimersByTime(1000)
    await nextTick()
    expect(w.get('[role="alert"]').text()).toBe('Too many failed logins. Try again in 2 s.')
    usePrefsStore(app.pinia).setLocale('de')
    await nextTick()
    expect(w.get('[role="alert"]').text()).toBe('Zu viele fehlgeschlagene Anmeldungen. Erneut versuchen in 2 s.')
    usePrefsStore(app.pinia).setLocale('en')

    const sent = f.callsTo('GET /api/settings').length
    await w.get('form').trigger('submit') // Enter while still refused: nothing is sent
    await flushPromises()
    expect(f.callsTo('GET /api/settings')).toHaveLength(sent)

    vi.advanceTimersByTime(2000)
    await nextTick()
    expect(w.find('[role="alert"]').exists()).toBe(false)
    expect(button(w, 'Log in').element.disabled).toBe(false)
  })

  it('a tab still holding an old password sends it once, shows the login form and then stays quiet', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    sessionStorage.setItem('dumper.credentials', encodeBasic('admin', 'old'))
    const f = mockFetch({ 'GET /api/targets': unauthorized, 'GET /api/jobs': unauthorized, 'GET /api/settings': unauthorized })
    app = await mountApp('/')
    await flushPromises()
    expect(app.router.currentRoute.value.fullPath).toBe('/login?redirect=/')
    expect(app.wrapper.get('h1').text()).toBe('Log in to dumper')
    expect(f.calls).toHaveLength(1)
    expect(f.calls[0]!.headers.Authorization).toBe(`Basic ${encodeBasic('admin', 'old')}`)

    await vi.advanceTimersByTimeAsync(60_000)
    await app.router.push('/targets') // a page opened by hand does not reach the server either
    await flushPromises()
    expect(f.calls).toHaveLength(1)
    expect(app.router.currentRoute.value.path).toBe('/login')
  })
})
