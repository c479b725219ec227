// Recovery anywhere from the browser: a seeded target's backup restored into a new database by
// name, only the chosen table, checked in the database itself; and the dialog passes axe.
import AxeBuilder from '@axe-core/playwright'
import { expect, test } from './fixtures'
import { dbTool, query, uniqueName } from './env'

test('restores chosen tables of a backup into a new database by name', async ({ page, seed }) => {
  const target = await seed.target()
  const backup = await seed.backup(target)
  const copy = uniqueName('dumper_e2e')
  try {
    await page.goto(`/targets/${target.id}/backups`)
    await page.locator(`tr[data-backup-id="${backup.id}"]`).getByRole('button', { name: 'Restore' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByRole('radio', { name: /A database by name/ }).check()
    await dialog.getByLabel('Database name').fill(copy)
    // All tables are chosen at first; keep only customers.
    await expect(dialog.getByTestId('restore-table')).toHaveCount(2)
    await dialog.getByRole('checkbox', { name: /^orders/ }).uncheck()
    await expect(dialog).toContainText('Only the 1 chosen tables are restored')
    await expect(dialog).toContainText(`Type "${copy}" to confirm`)
    await dialog.getByTestId('restore-confirm').fill(copy)
    await dialog.getByRole('button', { name: 'Restore database' }).click()
    await expect(dialog).toBeHidden()

    const history = page.getByTestId('restore-history')
    await expect(history.locator('tbody tr').first()).toContainText(`database ${copy}`, { timeout: 60_000 })
    await expect(history.locator('tbody tr').first()).toContainText('1 tables, 50 rows', { timeout: 60_000 })
    const tables = query<[string]>(copy, 'SHOW TABLES').map((r) => r[0])
    expect(tables).toEqual(['customers'])
    expect(query<[number]>(copy, 'SELECT COUNT(*) FROM customers')[0]![0]).toBe(50)
    // It survives a reload.
    await page.reload()
    await expect(page.getByTestId('restore-history').locator('tbody tr').first()).toContainText(`database ${copy}`)
  } finally {
    dbTool('drop', copy)
  }
})

test('axe: the restore dialog has no serious or critical violation', async ({ page, seed }) => {
  const target = await seed.target()
  const backup = await seed.backup(target)
  await page.goto(`/targets/${target.id}/backups`)
  await page.locator(`tr[data-backup-id="${backup.id}"]`).getByRole('button', { name: 'Restore' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('radio', { name: /A database by name/ }).check()
  await expect(dialog.getByTestId('restore-table').first()).toBeVisible()
  await page.waitForFunction(() =>
    document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState === 'finished'),
  )
  const results = await new AxeBuilder({ page }).analyze()
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
})
