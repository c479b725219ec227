// The main flows in a real browser against `dumper serve` and the real MariaDB: create a target,
// back up with visible progress, download, the restore guard, rotation, the dashboard and a cancel.
// Each test seeds its own database, target and backups through the API (fixtures.ts): any test
// runs alone (`-g`) and in any order.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Page } from '@playwright/test'
import { DB_SERVER, REPO, ageBackups, exec, lockTable, query, state } from './env'
import { call, expect, test, type SeededTarget } from './fixtures'

function rows(page: Page) {
  return page.locator('tr[data-backup-id]')
}

async function openBackups(page: Page, target: SeededTarget): Promise<void> {
  await page.goto(`/targets/${target.id}/backups`)
  await expect(page.getByRole('heading', { name: `Backups of "${target.name}"` })).toBeVisible()
}

/** Starts a backup and waits for it to succeed. Waits for a new id, not one row more: a fast
 * backup with a short retention may have rotated the old one away before the list shows both. */
async function backUpNowAndWait(page: Page): Promise<string> {
  const before = new Set(await rows(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-backup-id'))))
  await page.getByRole('button', { name: 'Back up now' }).click()
  const newest = rows(page).first()
  await expect
    .poll(async () => before.has(await newest.getAttribute('data-backup-id')), { timeout: 60_000 })
    .toBe(false)
  await expect(newest).toHaveAttribute('data-status', 'success', { timeout: 60_000 })
  return (await newest.getAttribute('data-backup-id'))!
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

test('1. creating a target shows validation errors in the form, then saves it', async ({ page, seed }) => {
  const database = seed.database()
  const NAME = seed.name()
  const named = async () =>
    (await call<{ name: string; dbname: string }[]>(page.request, 'GET', '/api/targets')).filter((t) => t.name === NAME)
  await page.goto('/targets/new')
  await page.getByLabel('Name', { exact: true }).fill(NAME)
  await page.getByLabel('Port').fill('70000')
  await page.getByRole('button', { name: 'Save' }).click()

  await expect(page.getByRole('alert').filter({ hasText: 'Please correct the marked fields.' })).toBeVisible()
  await expect(page.getByLabel('Host')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByText('Must be between 1 and 65535.')).toBeVisible()
  await expect(page.getByLabel('Port')).toHaveAttribute('aria-invalid', 'true')
  expect(await named()).toEqual([])

  await page.getByLabel('Host').fill(DB_SERVER.host)
  await page.getByLabel('Port').fill(String(DB_SERVER.port))
  await page.getByLabel('Database name').fill(database)
  await page.getByLabel('User', { exact: true }).fill(DB_SERVER.user)
  await page.getByLabel('Password').fill(DB_SERVER.password)
  await page.getByRole('button', { name: 'Test connection' }).click()
  await expect(page.getByTestId('test-result')).toContainText('Connected')
  await page.getByRole('button', { name: 'Save' }).click()

  await expect(page).toHaveURL(/\/targets$/)
  await expect(page.getByRole('row', { name: new RegExp(NAME) })).toBeVisible()
  expect((await named()).map((t) => [t.name, t.dbname])).toEqual([[NAME, database]])

  // A name the server refuses (taken) comes back from the API and is shown beside the field.
  await page.goto('/targets/new')
  await page.getByLabel('Name', { exact: true }).fill(NAME)
  await page.getByLabel('Host').fill(DB_SERVER.host)
  await page.getByLabel('Database name').fill(database)
  await page.getByLabel('User', { exact: true }).fill(DB_SERVER.user)
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true')
  await expect(page).toHaveURL(/\/targets\/new$/)
  expect(await named()).toHaveLength(1)
})

test('2. a manual backup shows its progress and ends in success', async ({ page, seed }) => {
  const target = await seed.target()
  await openBackups(page, target)
  await expect(page.getByText('No backups yet.')).toBeVisible()
  // Hold a write lock on the second table: the dump finishes `customers`, then visibly waits.
  const lock = await lockTable(target.database, 'orders')
  try {
    await page.getByRole('button', { name: 'Back up now' }).click()
    const row = rows(page).first()
    await expect(row).toHaveAttribute('data-status', 'running')
    const bar = row.getByRole('progressbar')
    await expect(bar).toBeVisible()
    // `customers` (50 rows) is done; `orders` waits for the lock
    await expect(row).toContainText('1 of 2 tables · 50 rows')
    await expect(bar).toHaveAttribute('value', '50')
  } finally {
    await lock.release()
  }
  const row = rows(page).first()
  await expect(row).toHaveAttribute('data-status', 'success', { timeout: 60_000 })
  await expect(row.getByRole('progressbar')).toHaveCount(0)
  await expect(row.getByRole('button', { name: 'Download' })).toBeEnabled()
})

test('3. the downloaded backup is a gzip of the SQL dump', async ({ page, seed }, testInfo) => {
  const target = await seed.target()
  await seed.backup(target)
  await openBackups(page, target)
  const downloadPromise = page.waitForEvent('download')
  await rows(page).first().getByRole('button', { name: 'Download' }).click()
  const download = await downloadPromise
  expect(download.suggestedFilename()).toMatch(new RegExp(`^${escape(target.name)}_.*\\.sql\\.gz$`))
  const saved = testInfo.outputPath(download.suggestedFilename())
  await download.saveAs(saved)
  const sql = gunzipSync(readFileSync(saved)).toString('utf8')
  expect(sql.startsWith('-- dumper ')).toBeTruthy()
  expect(sql).toContain('CREATE TABLE `customers`')
  expect(sql).toContain('CREATE TABLE `orders`')
  expect(sql).toMatch(/-- Dump completed \S+\n-- dumper-manifest \{.*"rows": 2050\b.*\}\n$/)
})

test('4. the restore guard: cancel changes nothing, the typed name restores', async ({ page, seed }) => {
  const target = await seed.target()
  await seed.backup(target)
  const { database, name: NAME } = target
  const count = () => query<[number]>(database, 'SELECT COUNT(*) FROM orders')[0]![0]
  // Damage the data after the backup: the restore must bring it back.
  exec(database, 'DELETE FROM orders WHERE id > 500')
  exec(database, "INSERT INTO customers VALUES (999, 'added after the backup', NULL)")
  expect(count()).toBe(500)

  await openBackups(page, target)
  await rows(page).first().getByRole('button', { name: 'Restore' }).click()
  const dialog = page.getByRole('dialog', { name: new RegExp(`Restore database "${database}"\\?`) })
  await expect(dialog).toBeVisible()
  const confirm = dialog.getByRole('button', { name: 'Restore database' })
  await expect(confirm).toBeDisabled()
  await dialog.getByLabel(`Type "${NAME}" to confirm`).fill(NAME.slice(0, -1))
  await expect(confirm).toBeDisabled()
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(dialog).toBeHidden()
  expect(count()).toBe(500)
  expect(query(database, 'SELECT id FROM customers WHERE id = 999')).toHaveLength(1)

  await rows(page).first().getByRole('button', { name: 'Restore' }).click()
  await expect(dialog).toBeVisible()
  await dialog.getByLabel(`Type "${NAME}" to confirm`).fill(NAME)
  await confirm.click()
  await expect(dialog).toBeHidden()
  // The result stays on the page, in the backup's terms.
  const done = page.getByTestId('restore-result')
  await expect(done).toContainText('Restore finished: 2 tables, 2,050 rows', { timeout: 60_000 })
  expect(count()).toBe(2000)
  expect(query(database, 'SELECT id FROM customers WHERE id = 999')).toHaveLength(0)
  expect(query(database, 'SELECT SUM(total) FROM orders')[0]).toEqual(['2501250.00'])
})

test('5. with a short retention a new backup removes the old one, and the list shows it', async ({ page, seed }) => {
  const target = await seed.target()
  await seed.backup(target)
  const { id } = target
  await page.goto(`/targets/${id}/edit`)
  await page.getByLabel('Keep backups for (days)').fill('1')
  await page.getByRole('button', { name: 'Save' }).click()
  await expect(page).toHaveURL(/\/targets$/)

  // The seeded backup becomes three days old, in the app's own store and on disk.
  ageBackups(id, 3)
  await openBackups(page, target)
  await expect(rows(page)).toHaveCount(1)
  const oldId = await rows(page).first().getAttribute('data-backup-id')
  const backups = await call<{ id: number; file_name: string }[]>(page.request, 'GET', `/api/targets/${id}/backups`)
  const oldName = backups.find((b) => String(b.id) === oldId)!.file_name
  await expect(rows(page).first()).toContainText(oldName)
  const backupDir = path.join(state().dir, 'backups')
  expect(existsSync(path.join(backupDir, oldName))).toBe(true)

  const newId = await backUpNowAndWait(page)
  expect(newId).not.toBe(oldId)
  await expect(rows(page)).toHaveCount(1)
  await expect(page.locator(`tr[data-backup-id="${oldId}"]`)).toHaveCount(0)
  await expect(page.getByText(oldName)).toHaveCount(0)

  // What rotation deleted is in the new backup's notes, and the file is gone from disk.
  await rows(page).first().getByRole('button', { name: 'Details' }).click()
  const details = page.getByRole('dialog', { name: /^Backup / })
  await expect(details).toContainText(oldName)
  await details.getByRole('button', { name: 'Close' }).last().click()
  await expect(details).toBeHidden()
  expect(existsSync(path.join(backupDir, oldName))).toBe(false)
})

test('the dashboard with data (screenshot for the README)', async ({ page, seed }) => {
  const target = await seed.target()
  const NAME = target.name
  await seed.backup(target)
  await openBackups(page, target)
  await backUpNowAndWait(page)
  await page.goto('/')
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()
  const card = page.getByRole('article', { name: NAME, exact: true })
  await expect(card).toBeVisible()
  await expect(card.getByRole('button', { name: 'Back up now' })).toBeVisible()
  await page.getByLabel('Target for the chart').selectOption({ label: NAME })
  await expect(page.getByRole('img', { name: `Backup size and duration over time for ${NAME}` })).toBeVisible()
  // The README's picture is refreshed only on request, so a test run leaves the checkout clean.
  const shot = process.env.UPDATE_SCREENSHOT
    ? path.join(REPO, 'docs', 'screenshot-dashboard.png')
    : test.info().outputPath('screenshot-dashboard.png')
  await page.screenshot({ path: shot, fullPage: true })
})

test('7. a backup held by a table lock is cancelled from its row and leaves no file', async ({ page, seed }) => {
  const target = await seed.target()
  const NAME = target.name
  await openBackups(page, target)
  const before = await rows(page).count()
  const lock = await lockTable(target.database, 'orders')
  let id = ''
  try {
    await page.getByRole('button', { name: 'Back up now' }).click()
    await expect(rows(page)).toHaveCount(before + 1)
    const running = rows(page).first()
    await expect(running).toHaveAttribute('data-status', 'running')
    await expect(running).toContainText('1 of 2 tables') // `orders` waits for the lock
    id = (await running.getAttribute('data-backup-id'))!
    await running.getByRole('button', { name: 'Cancel backup' }).click()
    await expect(page.getByRole('status').filter({ hasText: `Backup of "${NAME}" is being cancelled` })).toBeVisible()
    // the cancel interrupts the query that waits for the lock: the backup ends while it is held
    const row = page.locator(`tr[data-backup-id="${id}"]`)
    await expect(row).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 })
  } finally {
    await lock.release()
  }
  const row = page.locator(`tr[data-backup-id="${id}"]`)
  // a cancel is news, not an error: a status message, and the row is grey, not red
  await expect(page.getByRole('status').filter({ hasText: `Backup of "${NAME}" was cancelled.` })).toBeVisible()
  await expect(row.getByRole('button', { name: 'Download' })).toBeDisabled()
  const backup = await call<{ file_name: string; notes: string }>(page.request, 'GET', `/api/backups/${id}`)
  expect(backup.notes).toBe('cancelled by the user')
  const left = readdirSync(path.join(state().dir, 'backups')).filter((f) => f.startsWith(backup.file_name))
  expect(left).toEqual([]) // neither the file nor its .part
})
