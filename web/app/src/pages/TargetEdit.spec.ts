import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { button, makeTarget, mockFetch, mountApp, type Mounted } from '@/test/helpers'

let app: Mounted | null = null
afterEach(() => {
  app?.wrapper.unmount()
  app = null
})

function input(label: string) {
  const w = app!.wrapper
  const l = w.findAll('label').find((x) => x.text() === label)!
  return w.get(`[id="${l.attributes('for')}"]`)
}

async function fillNew() {
  await input('Name').setValue('shop')
  await input('Host').setValue('db.lan')
  await input('Database name').setValue('shopdb')
  await input('User').setValue('backup')
  await input('Password').setValue('pw')
}

describe('target edit page', () => {
  it('creates a target, toasts, and goes back to the list', async () => {
    const f = mockFetch({
      'POST /api/targets': { status: 201, body: makeTarget({ id: 4 }) },
      'GET /api/targets': { body: [makeTarget({ id: 4 })] },
      'GET /api/jobs': { body: [] },
    })
    app = await mountApp('/targets/new')
    expect(app.wrapper.get('h1').text()).toBe('New target')
    await fillNew()
    await app.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(f.callsTo('POST /api/targets')[0]!.body).toMatchObject({ name: 'shop', password: 'pw', port: 3306 })
    expect(app.router.currentRoute.value.path).toBe('/targets')
    expect(app.wrapper.text()).toContain('Target "shop" created.')
  })

  it('shows the server field errors beside the inputs', async () => {
    mockFetch({
      'POST /api/targets': {
        status: 422,
        body: { error: { code: 'invalid_input', message: 'invalid target', fields: { name: 'already taken' } } },
      },
    })
    app = await mountApp('/targets/new')
    await fillNew()
    await app.wrapper.get('form').trigger('submit')
    await flushPromises()
    const name = input('Name')
    expect(name.attributes('aria-invalid')).toBe('true')
    const errorId = name.attributes('aria-describedby')!.split(' ')[0]!
    expect(app.wrapper.get(`[id="${errorId}"]`).text()).toBe('Already taken.')
    expect(app.router.currentRoute.value.path).toBe('/targets/new')
  })

  it('edits a target keeping the stored password when the field stays empty', async () => {
    const f = mockFetch({
      'GET /api/targets/1': { body: makeTarget({ comment: 'prod' }) },
      'PUT /api/targets/1': { body: makeTarget({ comment: 'production' }) },
      'GET /api/targets': { body: [makeTarget()] },
      'GET /api/jobs': { body: [] },
    })
    app = await mountApp('/targets/1/edit')
    expect(app.wrapper.get('h1').text()).toBe('Edit "shop"')
    expect((input('Host').element as HTMLInputElement).value).toBe('db.lan')
    await input('Comment').setValue('production')
    await button(app.wrapper, 'Save').trigger('click')
    await flushPromises()
    const body = f.callsTo('PUT /api/targets/1')[0]!.body as Record<string, unknown>
    expect(body.comment).toBe('production')
    expect(body).not.toHaveProperty('password')
    expect(app.wrapper.text()).toContain('Target "shop" saved.')
  })

  it('tests the saved settings on edit without a password, the typed ones with it', async () => {
    const report = { ok: true, server_version: '10.11.19-MariaDB', database_exists: true, can_read: true, message: 'connected' }
    const f = mockFetch({
      'GET /api/targets/1': { body: makeTarget() },
      'POST /api/targets/1/test': { body: report },
      'POST /api/targets/test': { body: { ...report, ok: false, message: 'Access denied for user' } },
    })
    app = await mountApp('/targets/1/edit')
    await button(app.wrapper, 'Test connection').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/targets/1/test')).toHaveLength(1)
    expect(app.wrapper.get('[data-testid="test-result"]').text()).toContain('Connected: 10.11.19-MariaDB')

    await input('Password').setValue('new')
    await button(app.wrapper, 'Test connection').trigger('click')
    await flushPromises()
    expect(f.callsTo('POST /api/targets/test')[0]!.body).toMatchObject({ password: 'new', host: 'db.lan' })
    expect(app.wrapper.get('[data-testid="test-result"]').text()).toContain('Connection failed: Access denied for user')
    // Said once, beside the button: no toast repeats it.
    expect(app.wrapper.findAll('[data-kind]')).toHaveLength(0)
    expect(app.wrapper.text().split('Access denied for user')).toHaveLength(2)
  })

  it('shows a refused save once, in the form, not also as toasts', async () => {
    mockFetch({
      'POST /api/targets': {
        status: 422,
        body: {
          error: {
            code: 'invalid_input',
            message: 'invalid target: host, name, port',
            fields: { name: 'already taken', host: 'must not be blank', port: 'must be an integer from 1 to 65535' },
          },
        },
      },
    })
    app = await mountApp('/targets/new')
    await fillNew()
    await app.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(app.wrapper.findAll('[data-kind]')).toHaveLength(0)
    expect(app.wrapper.get('form [role="alert"]').text()).toBe('Please correct the marked fields.')
    expect(input('Name').attributes('aria-invalid')).toBe('true')

    // A refusal without field errors is said in the form too.
    mockFetch({ 'POST /api/targets': { status: 500, body: { error: { code: 'internal', message: 'internal server error' } } } })
    await app.wrapper.get('form').trigger('submit')
    await flushPromises()
    expect(app.wrapper.findAll('[data-kind]')).toHaveLength(0)
    expect(app.wrapper.get('form [role="alert"]').text()).toBe('Internal server error; the server log has the details.')
  })

  it('says when the target does not exist', async () => {
    mockFetch({ 'GET /api/targets/99': { status: 404, body: { error: { code: 'not_found', message: 'no target 99' } } } })
    app = await mountApp('/targets/99/edit')
    expect(app.wrapper.get('h1').text()).toBe('Target not found')
    expect(app.wrapper.findAll('button').filter((b) => b.text() === 'Try again')).toHaveLength(0)
    expect(app.wrapper.find('form').exists()).toBe(false)
  })
})
