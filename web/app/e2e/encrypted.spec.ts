// Encrypted backups from the browser: the target form turns encryption on with an age public key,
// the next backup is an .age file, and its verification and its restore take the private key
// pasted into their dialogs (checked in MariaDB); both dialogs pass axe.
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { call, expect, test } from './fixtures'
import { dbTool, query, uniqueName } from './env'

// The C2SP age specification's example key pair: public, so only for tests.
const IDENTITY = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX'
const RECIPIENT = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj'

async function noSeriousViolations(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState === 'finished'),
  )
  const results = await new AxeBuilder({ page }).analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
}

test('an encrypted backup is verified and restored with the key pasted in the dialog', async ({ page, seed }) => {
  const target = await seed.target()
  await page.goto(`/targets/${target.id}/edit`)
  const card = page.getByTestId('encryption-fields')
  await expect(card).toContainText('means lost backups')
  await card.getByLabel('Encrypt backups').selectOption('recipient')
  await card.getByLabel('age public key (age1…)').fill(RECIPIENT)
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page).toHaveURL(/\/targets$/)

  const backup = await seed.backup(target)
  expect(backup.file_name).toMatch(/\.sql\.gz\.age$/)
  await page.goto(`/targets/${target.id}/backups`)
  const row = page.locator(`tr[data-backup-id="${backup.id}"]`)

  // Verify: the dialog asks for the key; the backup is verified with it.
  await row.getByRole('button', { name: 'Verify now' }).click()
  const verify = page.getByRole('dialog', { name: /^Verify encrypted backup/ })
  await expect(verify).toContainText('never stored')
  await noSeriousViolations(page)
  await verify.getByLabel('Key of this encrypted backup').fill(IDENTITY)
  await verify.getByRole('button', { name: 'Verify' }).click()
  await expect(verify).toBeHidden()
  await expect
    .poll(async () => (await call<{ verification: { status: string } | null }>(page.request, 'GET', `/api/backups/${backup.id}`)).verification?.status, {
      timeout: 60_000,
    })
    .toBe('passed')
  await page.reload()
  await expect(row.locator('[data-verification]')).toHaveText('verified')

  // Restore into a new database by name, with the key.
  const copy = uniqueName('dumper_e2e')
  try {
    await row.getByRole('button', { name: 'Restore' }).click()
    const dialog = page.getByRole('dialog')
    await expect(dialog).toContainText('restored whole')
    await dialog.getByRole('radio', { name: /A database by name/ }).check()
    await dialog.getByLabel('Database name').fill(copy)
    await dialog.getByTestId('restore-confirm').fill(copy)
    await expect(dialog.getByRole('button', { name: 'Restore database' })).toBeDisabled()
    await dialog.getByLabel('Key of this encrypted backup').fill(IDENTITY)
    await noSeriousViolations(page)
    await dialog.getByRole('button', { name: 'Restore database' }).click()
    await expect(dialog).toBeHidden()
    const history = page.getByTestId('restore-history')
    await expect(history.locator('tbody tr').first()).toContainText('2 tables, 2,050 rows', { timeout: 60_000 })
    expect(query<[number]>(copy, 'SELECT COUNT(*) FROM customers')[0]![0]).toBe(50)
  } finally {
    dbTool('drop', copy)
  }
  // The key went nowhere: the restore row and the backup say nothing of it.
  const restores = await call<unknown[]>(page.request, 'GET', `/api/targets/${target.id}/restores`)
  expect(JSON.stringify(restores)).not.toContain('AGE-SECRET-KEY')
})
