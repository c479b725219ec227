// Uploads from the browser: a real phpMyAdmin export (tests/fixtures/foreign) chosen with the file
// picker, or dropped on the zone, becomes a backup of the target and is restored into a new
// database by name; the database then holds what phpMyAdmin exported.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, test } from './fixtures'
import { REPO, dbTool, query, uniqueName } from './env'

const FOREIGN = path.join(REPO, 'tests', 'fixtures', 'foreign')

test('uploads a phpMyAdmin file and restores it into a new database', async ({ page, seed }) => {
  const target = await seed.target()
  const copy = uniqueName('dumper_e2e')
  try {
    await page.goto(`/targets/${target.id}/backups`)
    await page.getByTestId('upload-input').setInputFiles(path.join(FOREIGN, 'phpmyadmin.sql'))
    await expect(page.getByText('phpmyadmin.sql uploaded and checked')).toBeVisible()
    const row = page.locator('tr[data-backup-id]', { hasText: 'phpmyadmin.sql' })
    await expect(row).toContainText('upload')

    await row.getByRole('button', { name: 'Restore' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByRole('radio', { name: /A database by name/ }).check()
    await dialog.getByLabel('Database name').fill(copy)
    // phpMyAdmin writes no end line: the dialog asks to accept that.
    await dialog.getByTestId('restore-accept-unmarked').check()
    await dialog.getByTestId('restore-confirm').fill(copy)
    await dialog.getByRole('button', { name: 'Restore database' }).click()
    await expect(dialog).toBeHidden()

    const history = page.getByTestId('restore-history')
    await expect(history.locator('tbody tr').first()).toContainText(`database ${copy}`, { timeout: 60_000 })
    await expect
      .poll(() => query<[string]>(copy, 'SHOW TABLES').map((r) => r[0]), { timeout: 60_000 })
      .toEqual(['audit', 'cheap', 'items'])
    await expect.poll(() => query<[number]>(copy, 'SELECT COUNT(*) FROM items')[0]![0]).toBe(3)
    expect(query<[string]>(copy, "SELECT name FROM items WHERE id = 2")[0]![0]).toBe('héllo')
    // the target's own database was not touched
    expect(query(target.database, 'SHOW TABLES').map((r) => (r as string[])[0])).toEqual(['customers', 'orders'])
  } finally {
    dbTool('drop', copy)
  }
})

test('a dropped file that fails the check is refused and says why', async ({ page, seed }) => {
  const target = await seed.target()
  await page.goto(`/targets/${target.id}/backups`)
  const whole = readFileSync(path.join(FOREIGN, 'phpmyadmin.sql.gz'))
  const cut = Array.from(whole.subarray(0, whole.length - 40))
  // What a drag from the file manager hands the page: a DataTransfer holding one file.
  const transfer = await page.evaluateHandle((bytes) => {
    const dt = new DataTransfer()
    dt.items.add(new File([new Uint8Array(bytes)], 'cut.sql.gz', { type: 'application/gzip' }))
    return dt
  }, cut)
  await page.getByTestId('upload-drop').dispatchEvent('drop', { dataTransfer: transfer })
  await expect(page.getByTestId('upload-error')).toContainText('cut.sql.gz was not kept: The backup file is damaged')
  await expect(page.locator('tr[data-backup-id]', { hasText: 'cut.sql.gz' })).toHaveCount(0)
})
