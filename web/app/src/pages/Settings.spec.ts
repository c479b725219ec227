import { afterEach, describe, expect, it } from 'vitest'
import { makeSettings, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

describe('settings page', () => {
  it('shows version, auth status, the effective config and unknown files', async () => {
    mockFetch({
      'GET /api/settings': {
        body: makeSettings({
          version: '0.1.0',
          auth_enabled: true,
          unknown_files: [{ name: 'old.sql.gz', size_bytes: 10, modified_at: '2026-11-20T00:00:00Z' }],
        }),
      },
      'GET /api/tokens': { body: [] },
      'GET /api/notification-channels': { body: [] },
      'GET /api/notification-deliveries': { body: [] },
    })
    app = await mountApp('/settings')
    const w = app.wrapper
    expect(w.get('[data-testid="version"]').text()).toBe('0.1.0')
    expect(w.text()).toContain('enabled (Basic-Auth)')
    expect(w.text()).toContain('backup_dir')
    expect(w.text()).toContain('/data/backups')
    expect(w.text()).toContain('old.sql.gz')
    expect(w.text()).toContain('10 B')
    expect(w.get('[aria-labelledby="config-title"]').findAll('input').length).toBe(0) // read-only
    expect(w.get('[aria-labelledby="tokens-title"]').text()).toContain('No tokens yet.')
    expect(w.get('[aria-labelledby="channels-title"]').text()).toContain('No channels yet.')
  })

  it('switches theme and language and remembers both', async () => {
    mockFetch({
      'GET /api/settings': { body: makeSettings() },
      'GET /api/tokens': { body: [] },
      'GET /api/notification-channels': { body: [] },
      'GET /api/notification-deliveries': { body: [] },
    })
    app = await mountApp('/settings')
    const selects = app.wrapper.findAll('select')
    const label = (i: number) => selects[i]!.element.closest('label')!.textContent!
    expect(label(0)).toContain('Theme')
    expect(label(1)).toContain('Language')
    await selects[0]!.setValue('dark')
    expect(document.documentElement.getAttribute('data-theme')).toBe('dark')
    expect(localStorage.getItem('dumper.theme')).toBe('dark')
    await selects[1]!.setValue('de')
    expect(localStorage.getItem('dumper.locale')).toBe('de')
    expect(app.wrapper.get('h1').text()).toBe('Einstellungen')
    expect(app.wrapper.text()).toContain('Übersicht')
    expect(app.wrapper.text()).toContain('Keine.')
  })
})
