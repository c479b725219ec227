// End-to-end tests: e2e/global-setup.ts starts `dumper serve` (the repo's .venv) against the real
// MariaDB; the specs drive headless Chromium through the built UI (run `npm run build` first).
import { defineConfig, devices } from '@playwright/test'

// Debian's chromium where Playwright cannot download its own (CHROMIUM_PATH=/usr/bin/chromium);
// unset (GitHub Actions after `npx playwright install`): Playwright's browser.
const executablePath = process.env.CHROMIUM_PATH || undefined

export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/global-setup.ts',
  // One shared service (and 2 cores): one worker. Each test seeds its own database and target
  // (e2e/fixtures.ts), so none depends on another's order.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  outputDir: 'test-results',
  use: {
    ...devices['Desktop Chrome'],
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
    launchOptions: {
      executablePath,
      args: executablePath
        ? ['--no-sandbox', '--disable-gpu', '--disable-background-networking']
        : [],
    },
  },
  projects: [{ name: 'chromium' }],
})
