// With ADMIN_USER/ADMIN_PASS set, the UI asks for a login, refuses a wrong one, and works after it.
import { ADMIN, state } from './env'
import { expect, test as base } from './fixtures'

// The second server (started with ADMIN_USER/ADMIN_PASS by the global setup).
const test = base.extend({
  baseURL: async ({}, use) => {
    await use(state().authUrl)
  },
})

test('6. with ADMIN_USER/ADMIN_PASS the UI asks for a login and works after it', async ({ page }) => {
  const anonymous = await page.request.get('/api/targets')
  expect(anonymous.status()).toBe(401)

  await page.goto('/')
  await expect(page).toHaveURL(/\/login/)
  await page.getByLabel('User name').fill(ADMIN.user)
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' })).toBeVisible()

  await page.getByLabel('Password').fill(ADMIN.pass)
  await page.getByRole('button', { name: 'Log in' }).click()
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible()
  await expect(page.getByRole('link', { name: 'Create your first target' })).toBeVisible()
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Targets' }).click()
  await expect(page.getByRole('heading', { name: 'Targets' })).toBeVisible()
  await expect(page.getByText('No targets yet.')).toBeVisible()
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible()
})
