// The `test` every spec uses: baseURL of the plain server from the global setup, English UI.
import { test as base, expect } from '@playwright/test'
import { state } from './env'

export const test = base.extend({
  baseURL: async ({}, use) => {
    await use(state().url)
  },
  page: async ({ page }, use) => {
    await page.addInitScript(() => window.localStorage.setItem('dumper.locale', 'en'))
    await use(page)
  },
})

export { expect }
