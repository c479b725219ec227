// A target of every database (`*`) is named so in the targets list, in either language.
import { afterEach, describe, expect, it } from 'vitest'
import { makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

describe('targets page with a whole-server target', () => {
  it('says "every database" for database *', async () => {
    mockFetch({
      'GET /api/targets': { body: [makeTarget({ id: 3, name: 'db1', dbname: '*', exclude: 'test_*' })] },
      'GET /api/jobs': { body: [] },
    })
    app = await mountApp('/targets')
    const row = app.wrapper.get('tr[data-target="db1"]')
    expect(row.get('[data-testid="all-databases"]').text()).toBe('every database')
    expect(row.text()).toContain('every database @ db.lan:3306')
  })
})
