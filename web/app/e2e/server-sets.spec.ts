// A whole server as one target, from the browser: the form takes * (the connection test names the
// databases it would back up), a backup is one set whose details list each database, a database
// of the set downloads on its own (the details pass axe), and one is restored into a new database
// by name.
import AxeBuilder from '@axe-core/playwright'
import { expect, test, call } from './fixtures'
import { DB_SERVER, dbTool, query, uniqueName } from './env'

test('a target of every database backs up a set and restores one of its databases', async ({ page, seed, request }, testInfo) => {
  const [a, b] = [seed.database(), seed.database()].sort() as [string, string]
  const copy = uniqueName('dumper_e2e')
  const user = uniqueName('e2e_set')
  // a user that sees only this test's databases: a backup of "every database" takes just these
  dbTool('exec', a, `CREATE USER '${user}'@'%' IDENTIFIED BY 'set-Pw-1'`)
  for (const db of [a, b, copy]) dbTool('exec', a, `GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${user}'@'%'`)
  try {
    const name = seed.name()
    await page.goto('/targets/new')
    await page.getByLabel('Name', { exact: true }).fill(name)
    await page.getByLabel('Host').fill(DB_SERVER.host)
    await page.getByLabel('Port').fill(String(DB_SERVER.port))
    await page.getByLabel('Database name').fill('*')
    await expect(page.getByLabel('Leave out')).toBeVisible()
    await page.getByLabel('User', { exact: true }).fill(user)
    await page.getByLabel('Password').fill('set-Pw-1')
    await page.getByRole('button', { name: 'Test connection' }).click()
    await expect(page.getByTestId('test-result')).toContainText(`Would back up: ${a}, ${b}`)
    await page.getByRole('button', { name: 'Save' }).click()
    await expect(page).toHaveURL(/\/targets$/)
    await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('every database')

    const targets = await call<{ id: number; name: string }[]>(request, 'GET', '/api/targets')
    const target = targets.find((t) => t.name === name)!
    await page.goto(`/targets/${target.id}/backups`)
    await page.getByRole('button', { name: 'Back up now' }).click()
    const row = page.locator('tr[data-backup-id]').first()
    await expect(row).toHaveAttribute('data-status', 'success', { timeout: 60_000 })

    await row.getByRole('button', { name: 'Details' }).click()
    const details = page.getByRole('dialog')
    const sets = details.getByTestId('set-databases')
    await expect(sets.locator('tbody tr')).toHaveCount(2)
    await expect(sets.locator('tbody tr').nth(1)).toContainText(b)
    await page.waitForFunction(() =>
      document.getAnimations().every((x) => !(x instanceof CSSTransition) || x.playState === 'finished'),
    )
    const axe = await new AxeBuilder({ page }).analyze()
    const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([])
    const downloadPromise = page.waitForEvent('download')
    await details.getByRole('button', { name: `Download ${b}` }).click()
    const download = await downloadPromise
    expect(download.suggestedFilename()).toBe(`${b}.sql.gz`)
    await download.saveAs(testInfo.outputPath(download.suggestedFilename()))
    await details.getByRole('button', { name: 'Close' }).first().click()
    await expect(details).toBeHidden()

    await row.getByRole('button', { name: 'Restore' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Database of the set').selectOption(b)
    await dialog.getByRole('radio', { name: /A database by name/ }).check()
    await dialog.getByLabel('Database name').fill(copy)
    await dialog.getByTestId('restore-confirm').fill(copy)
    await dialog.getByRole('button', { name: 'Restore database' }).click()
    await expect(dialog).toBeHidden()
    const history = page.getByTestId('restore-history')
    await expect(history.locator('tbody tr').first()).toContainText(`database ${copy}`, { timeout: 60_000 })
    await expect(history.locator('tbody tr').first()).toContainText('2 tables', { timeout: 60_000 })
    expect(query<[number]>(copy, 'SELECT COUNT(*) FROM orders')[0]![0]).toBe(2000)
  } finally {
    dbTool('exec', a, `DROP USER IF EXISTS '${user}'@'%'`)
    dbTool('drop', copy)
  }
})
