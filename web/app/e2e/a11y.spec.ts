// axe-core on every page and modal, in both themes and both languages: no serious or critical
// violation. AxeBuilder (@axe-core/playwright) injects axe with page.evaluate, which runs through
// the DevTools protocol and is not subject to the page's CSP (`script-src 'self'`): the scan runs
// against the app exactly as the server delivers it, headers included (checked below).
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { DB_SERVER, state } from './env'
import { call, expect, test, type SeededTarget } from './fixtures'

type Theme = 'light' | 'dark'
type Locale = 'en' | 'de'

interface Finding {
  where: string
  rule: string
  impact: string
  nodes: string[]
}

async function scan(page: Page, where: string, findings: Finding[]): Promise<void> {
  // Let transitions (a modal fading in) end first: axe reads the colours as they are painted.
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState === 'finished'),
  )
  const results = await new AxeBuilder({ page }).analyze()
  for (const v of results.violations) {
    if (v.impact !== 'serious' && v.impact !== 'critical') continue
    findings.push({
      where,
      rule: v.id,
      impact: v.impact,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n')[1] ?? ''}`),
    })
  }
}

async function prefs(page: Page, theme: Theme, locale: Locale): Promise<void> {
  await page.addInitScript(
    ([th, lo]) => {
      window.localStorage.setItem('dumper.theme', th)
      window.localStorage.setItem('dumper.locale', lo)
    },
    [theme, locale] as const,
  )
}

/** A target whose backups fail at once (its database does not exist), so a failed row shows. */
async function failingTarget(page: Page, name: string): Promise<number> {
  const target = await call<{ id: number }>(page.request, 'POST', '/api/targets', {
    name,
    host: DB_SERVER.host,
    port: DB_SERVER.port,
    dbname: 'dumper_e2e_missing_database',
    user: DB_SERVER.user,
    password: DB_SERVER.password,
    schedule_time: '03:00',
    retention_days: 3,
    auto_compress: true,
  })
  const backup = await call<{ id: number }>(page.request, 'POST', `/api/targets/${target.id}/backup`)
  await expect
    .poll(async () => (await call<{ status: string }>(page.request, 'GET', `/api/backups/${backup.id}`)).status)
    .toBe('failed')
  return target.id
}

async function openModal(page: Page, button: string, where: string, findings: Finding[], scope = page.locator('main')): Promise<void> {
  await scope.getByRole('button', { name: button, exact: true }).first().click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  await scan(page, where, findings)
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
}

const TEXT = {
  en: { restore: 'Restore', delete: 'Delete', details: 'Details', save: 'Save' },
  de: { restore: 'Wiederherstellen', delete: 'Löschen', details: 'Details', save: 'Speichern' },
} as const

for (const theme of ['light', 'dark'] as const) {
  for (const locale of ['en', 'de'] as const) {
    test(`axe: no serious or critical violation, ${theme} theme, ${locale}`, async ({ page, seed }) => {
      test.setTimeout(180_000)
      const target: SeededTarget = await seed.target()
      await seed.backup(target)
      const failing = await failingTarget(page, seed.name())
      await prefs(page, theme, locale)
      const words = TEXT[locale]
      const findings: Finding[] = []
      const h1 = page.getByRole('heading', { level: 1 })

      const response = await page.goto('/')
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme)
      await expect(page.locator('html')).toHaveAttribute('lang', locale)
      await expect(page.locator(`[data-target="${target.name}"]`)).toBeVisible()
      await scan(page, 'dashboard', findings)

      await page.goto('/targets')
      await expect(page.locator(`[data-target="${target.name}"]`)).toBeVisible()
      await scan(page, 'targets', findings)
      const row = page.locator(`[data-target="${target.name}"]`)
      await openModal(page, words.delete, 'delete target', findings, row)

      await page.goto(`/targets/${target.id}/backups`)
      await expect(page.locator('[data-backup-id]').first()).toBeVisible()
      await scan(page, 'backups', findings)
      const good = page.locator('[data-backup-id][data-status="success"]').first()
      await openModal(page, words.restore, 'restore guard', findings, good)
      await openModal(page, words.details, 'details', findings, good)
      await openModal(page, words.delete, 'delete backup', findings, good)
      // A finished restore leaves its result on the page.
      await good.getByRole('button', { name: words.restore, exact: true }).click()
      await page.getByRole('dialog').getByRole('textbox').fill(target.name)
      await page.getByRole('dialog').locator('.btn-error').click()
      await expect(page.getByTestId('restore-result')).toBeVisible({ timeout: 60_000 })
      await scan(page, 'restore result', findings)

      await page.goto(`/targets/${failing}/backups`)
      const failed = page.locator('[data-backup-id][data-status="failed"]').first()
      await expect(failed).toBeVisible()
      await scan(page, 'backups with a failed one', findings)
      await openModal(page, words.details, 'details of a failed backup', findings, failed)

      await page.goto(`/targets/${target.id}/edit`)
      await expect(page.locator('main form')).toBeVisible()
      await scan(page, 'edit target', findings)

      await page.goto('/targets/new')
      await page.getByRole('button', { name: words.save, exact: true }).click()
      await expect(page.locator('main [aria-invalid="true"]').first()).toBeVisible()
      await scan(page, 'new target with errors', findings)

      await page.goto('/settings')
      await expect(page.getByTestId('version')).toBeVisible()
      await scan(page, 'settings', findings)

      await page.goto('/targets/999999/backups')
      await expect(h1).toBeVisible()
      await scan(page, 'unknown target', findings)

      await page.goto('/no/such/page')
      await expect(h1).toBeVisible()
      await scan(page, 'not found', findings)

      // The login form, on the server that asks for one; a wrong password shows its error. Not as
      // the admin: the server throttles (address, user) after 5 failures a minute, and the four
      // scans plus auth.spec's own wrong password would lock the admin out of auth.spec.
      await page.goto(`${state().authUrl}/login`)
      await page.locator('input[autocomplete="username"]').fill('a11y-visitor')
      await page.locator('input[type="password"]').fill('wrong')
      await page.locator('button[type="submit"]').click()
      await expect(page.getByRole('alert')).toBeVisible()
      await scan(page, 'login', findings)

      expect(findings, JSON.stringify(findings, null, 2)).toEqual([])
    })
  }
}
