import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { makeSettings, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'
import { usePrefsStore } from '@/stores'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

const BANNER = '[data-testid="open-access"]'

function serve(openAccess: boolean) {
  return mockFetch({
    'GET /api/settings': { body: makeSettings({ open_access: openAccess }) },
    'GET /api/targets': { body: [makeTarget()] },
    'GET /api/targets/1': { body: makeTarget() },
    'GET /api/targets/1/backups': { body: [] },
    'GET /api/jobs': { body: [] },
  })
}

describe('open access banner', () => {
  it('warns on every page when auth is off and anyone who can reach the address may use it', async () => {
    serve(true)
    app = await mountApp('/targets')
    const w = app.wrapper
    expect(w.get(BANNER).text()).toBe(
      'Anyone who can reach this address can back up, restore and delete your databases: set ADMIN_USER and ADMIN_PASS',
    )
    expect(w.get(BANNER).classes()).toContain('alert-warning')
    for (const path of ['/', '/targets/1/edit', '/targets/1/backups', '/settings']) {
      await app.router.push(path)
      await flushPromises()
      expect(w.find(BANNER).exists(), path).toBe(true)
    }
    usePrefsStore(app.pinia).setLocale('de')
    await nextTick()
    expect(w.get(BANNER).text()).toBe(
      'Jeder, der diese Adresse erreicht, kann deine Datenbanken sichern, wiederherstellen und löschen: setze ADMIN_USER und ADMIN_PASS',
    )
  })

  it('shows nothing when auth is on or the server listens on loopback only', async () => {
    const f = serve(false)
    app = await mountApp('/targets')
    expect(app.wrapper.find(BANNER).exists()).toBe(false)
    expect(f.callsTo('GET /api/settings')).toHaveLength(1)
    await app.router.push('/')
    await flushPromises()
    expect(app.wrapper.find(BANNER).exists()).toBe(false)
  })
})
