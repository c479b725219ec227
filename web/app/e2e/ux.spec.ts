// Layout and focus, where only a real browser can tell: the lists on a phone, where focus goes
// after a dialog, and a long message inside its toast.
import type { Locator, Page } from '@playwright/test'
import { DB_SERVER } from './env'
import { call, expect, test } from './fixtures'

const PHONE = { width: 390, height: 844 }

/** The control sits inside the screen's width as laid out (no sideways scrolling needed). */
async function onScreen(page: Page, control: Locator): Promise<void> {
  const width = page.viewportSize()!.width
  const box = (await control.boundingBox())!
  expect(box, await control.textContent() ?? '').toBeTruthy()
  expect(box.x, `${await control.textContent()} starts off-screen`).toBeGreaterThanOrEqual(0)
  expect(box.x + box.width, `${await control.textContent()} ends off-screen`).toBeLessThanOrEqual(width)
}

/** Nothing on the page is wider than the screen, and no box scrolls sideways. */
async function fitsTheScreen(page: Page): Promise<void> {
  const wide = await page.evaluate(() => {
    const out: string[] = []
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page ${document.documentElement.scrollWidth}px`)
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('main *'))) {
      const overflow = getComputedStyle(el).overflowX // 'hidden' is a deliberate cut (an ellipsis)
      if (el.scrollWidth > el.clientWidth + 1 && (overflow === 'auto' || overflow === 'scroll')) {
        out.push(`${el.tagName}.${el.className} scrolls ${el.scrollWidth}px in ${el.clientWidth}px`)
      }
    }
    return out
  })
  expect(wide).toEqual([])
}

async function closeDialog(page: Page, button: string): Promise<void> {
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  await dialog.getByRole('button', { name: button, exact: true }).first().click()
  await expect(dialog).toBeHidden()
}

test.describe('on a phone (390 x 844)', () => {
  test.use({ viewport: PHONE })

  test('every action of the targets and backups lists is on screen and works', async ({ page, seed }) => {
    const target = await seed.target()
    await seed.backup(target)

    await page.goto('/targets')
    const row = page.locator(`[data-target="${target.name}"]`)
    await expect(row).toBeVisible()
    await fitsTheScreen(page)
    const backUp = row.getByRole('button', { name: 'Back up now' })
    const edit = row.getByRole('link', { name: 'Edit' })
    const list = row.getByRole('link', { name: 'Backups' })
    const remove = row.getByRole('button', { name: 'Delete' })
    for (const control of [row.getByText('success').first(), backUp, edit, list, remove]) await onScreen(page, control)

    await remove.click()
    await closeDialog(page, 'Cancel')
    await edit.click()
    await expect(page).toHaveURL(new RegExp(`/targets/${target.id}/edit$`))
    await page.goBack()
    await list.click()
    await expect(page).toHaveURL(new RegExp(`/targets/${target.id}/backups$`))
    await page.goBack()
    await backUp.click()
    await expect(page.getByRole('status').filter({ hasText: `Backup of "${target.name}" started.` })).toBeVisible()
    await expect(row.locator('[data-status]').first()).toHaveAttribute('data-status', 'success', { timeout: 60_000 })

    await page.goto(`/targets/${target.id}/backups`)
    const backup = page.locator('[data-backup-id][data-status="success"]').first()
    await expect(backup).toBeVisible()
    await fitsTheScreen(page)
    const header = page.locator('main header')
    const controls = {
      download: backup.getByRole('button', { name: 'Download' }),
      restore: backup.getByRole('button', { name: 'Restore' }),
      details: backup.getByRole('button', { name: 'Details' }),
      remove: backup.getByRole('button', { name: 'Delete' }),
      backUp: header.getByRole('button', { name: 'Back up now' }),
      edit: header.getByRole('link', { name: 'Edit' }),
    }
    for (const control of [backup.locator('[data-status]').first(), ...Object.values(controls)]) await onScreen(page, control)

    const download = page.waitForEvent('download')
    await controls.download.click()
    expect((await download).suggestedFilename()).toMatch(/\.sql\.gz$/)
    await controls.restore.click()
    await closeDialog(page, 'Cancel')
    await controls.details.click()
    await closeDialog(page, 'Close')
    await controls.remove.click()
    await closeDialog(page, 'Cancel')
    await controls.backUp.click()
    await expect(page.locator('[data-backup-id]')).toHaveCount(3)
    await expect(page.locator('[data-backup-id]').first()).toHaveAttribute('data-status', 'success', { timeout: 60_000 })
    await controls.edit.click()
    await expect(page).toHaveURL(new RegExp(`/targets/${target.id}/edit$`))
    await expect(page.locator('main form')).toBeVisible()
    await fitsTheScreen(page)

    // The other pages fit too.
    await page.goto('/')
    await expect(page.locator(`[data-target="${target.name}"]`)).toBeVisible()
    await fitsTheScreen(page)
    await page.goto('/settings')
    await expect(page.getByTestId('version')).toBeVisible()
    await fitsTheScreen(page)
  })

  test('a long error wraps inside its toast and its close button stays on screen', async ({ page, seed }) => {
    // A host name with a label over 63 characters: the connection fails at once ("invalid host name").
    const host = `${'unreachable-host-name-'.repeat(4)}x.example.invalid`
    const name = seed.name()
    const target = await call<{ id: number }>(page.request, 'POST', '/api/targets', {
      name,
      host,
      port: DB_SERVER.port,
      dbname: 'nothing',
      user: DB_SERVER.user,
      password: DB_SERVER.password,
      schedule_time: null,
      retention_days: 1,
      auto_compress: true,
    })
    await page.goto(`/targets/${target.id}/backups`)
    await page.getByRole('button', { name: 'Back up now' }).click()
    const toast = page.getByRole('alert').filter({ hasText: host })
    await expect(toast).toBeVisible({ timeout: 30_000 })
    await onScreen(page, toast)
    await onScreen(page, toast.getByRole('button', { name: 'Dismiss' }))
    await toast.getByRole('button', { name: 'Dismiss' }).click()
    await expect(toast).toBeHidden()
  })
})

test('focus goes back to the row after confirming a restore, and to the heading after deleting a backup', async ({
  page,
  seed,
}) => {
  const target = await seed.target()
  await seed.backup(target)
  await seed.backup(target)
  await page.goto(`/targets/${target.id}/backups`)
  const rows = page.locator('[data-backup-id]')
  await expect(rows).toHaveCount(2)
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement
      return el?.getAttribute('data-backup-id') ?? el?.tagName ?? null
    })

  const first = rows.first()
  const id = await first.getAttribute('data-backup-id')
  await first.getByRole('button', { name: 'Restore' }).click()
  const guard = page.getByRole('dialog')
  await guard.getByRole('textbox').fill(target.name)
  await guard.getByRole('button', { name: 'Restore database' }).click()
  await expect(guard).toBeHidden()
  await expect.poll(focused).toBe(id) // the row whose Restore now waits for the running restore
  await expect(page.getByTestId('restore-result')).toContainText('Restore finished', { timeout: 60_000 })

  await rows.last().getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Delete backup' }).click()
  await expect(rows).toHaveCount(1)
  await expect.poll(focused).toBe('H1')
  await page.keyboard.press('Tab') // and the page goes on from there, not from the top of <body>
  expect(await page.evaluate(() => document.activeElement?.tagName)).not.toBe('BODY')
})
