import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import TargetForm from './TargetForm.vue'
import { emptyForm, formFromTarget } from '@/forms/targetForm'
import { makeTarget } from '@/test/helpers'
import { localZoneName } from '@/utils/format'

beforeEach(() => setActivePinia(createPinia()))
// the schedule time is entered in local time (the tests run in UTC)
const TIME = `Backup time (your time, ${localZoneName()})`

function byLabel(w: ReturnType<typeof mount>, label: string) {
  const l = w.findAll('label').find((x) => x.text() === label)
  if (!l) throw new Error(`no label ${label}`)
  const id = l.attributes('for')
  return id ? w.get(`[id="${id}"]`) : l.get('input')
}

describe('target form', () => {
  it('shows the rule broken beside each field and sends nothing while invalid', async () => {
    const w = mount(TargetForm, { props: { mode: 'create', initial: emptyForm() } })
    await byLabel(w, 'Port').setValue('70000')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')).toBeUndefined()
    expect(w.text()).toContain('Please correct the marked fields.')
    const name = byLabel(w, 'Name')
    expect(name.attributes('aria-invalid')).toBe('true')
    const described = name.attributes('aria-describedby')!.split(' ')
    expect(w.get(`[id="${described[0]}"]`).text()).toBe('Required.')
    expect(w.text()).toContain('Must be between 1 and 65535.')
  })

  it('emits the API body when valid', async () => {
    const w = mount(TargetForm, { props: { mode: 'create', initial: emptyForm() } })
    await byLabel(w, 'Name').setValue('shop')
    await byLabel(w, 'Host').setValue('db.lan')
    await byLabel(w, 'Database name').setValue('shopdb')
    await byLabel(w, 'User').setValue('backup')
    await byLabel(w, 'Password').setValue('pw')
    await byLabel(w, TIME).setValue('04:30')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')![0]![0]).toMatchObject({
      name: 'shop', host: 'db.lan', port: 3306, dbname: 'shopdb', user: 'backup', password: 'pw',
      schedule_time: '04:30', retention_days: 14, auto_compress: true,
    })
  })

  it('takes the time as 24-hour HH:MM text, refuses impossible times and pads a short hour', async () => {
    const w = mount(TargetForm, { props: { mode: 'create', initial: emptyForm() } })
    await byLabel(w, 'Name').setValue('shop')
    await byLabel(w, 'Host').setValue('db.lan')
    await byLabel(w, 'Database name').setValue('shopdb')
    await byLabel(w, 'User').setValue('backup')
    const time = byLabel(w, TIME)
    expect(time.attributes('type')).toBe('text') // not the browser's 12-hour clock
    expect(time.attributes('inputmode')).toBe('numeric')
    expect(time.attributes('placeholder')).toBe('HH:MM')
    await time.setValue('25:99')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')).toBeUndefined()
    expect((time.element as HTMLInputElement).value).toBe('25:99') // kept as typed, not turned into 03:00 PM
    expect(time.attributes('aria-invalid')).toBe('true')
    expect(w.text()).toContain('Use HH:MM between 00:00 and 23:59.')
    expect(w.find('[data-testid="utc-time"]').exists()).toBe(false)
    await time.setValue('7:05')
    await time.trigger('blur')
    expect((time.element as HTMLInputElement).value).toBe('07:05')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')![0]![0]).toMatchObject({ schedule_time: '07:05' })
  })

  it('shows server field errors beside the inputs until the field is edited', async () => {
    const w = mount(TargetForm, {
      props: { mode: 'edit', initial: formFromTarget(makeTarget()), serverErrors: { name: 'already taken', extra: 'unknown field' } },
    })
    expect(w.text()).toContain('Already taken.')
    expect(w.text()).toContain('extra: Unknown field.')
    await byLabel(w, 'Name').setValue('shop2')
    expect(w.text()).not.toContain('Already taken.')
  })

  it('keeps the password write-only: empty on edit, with the hint, and left out of the body', async () => {
    const w = mount(TargetForm, { props: { mode: 'edit', initial: formFromTarget(makeTarget()) } })
    const pw = byLabel(w, 'Password')
    expect((pw.element as HTMLInputElement).value).toBe('')
    expect(pw.attributes('type')).toBe('password')
    expect(w.text()).toContain('Leave empty to keep the current one.')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')![0]![0]).not.toHaveProperty('password')
  })

  it('shows the UTC time beside the local time and hides it without a schedule', async () => {
    const w = mount(TargetForm, { props: { mode: 'create', initial: emptyForm() } })
    expect(w.get('[data-testid="utc-time"]').text()).toBe('= 03:00 UTC')
    await w.findAll('input[type="checkbox"]')[0]!.setValue(false)
    expect(w.find('[data-testid="utc-time"]').exists()).toBe(false)
    expect(w.findAll('label').some((l) => l.text() === TIME)).toBe(false)
  })

  it('offers every few hours (no time field, the local run times shown) and weekly days', async () => {
    const w = mount(TargetForm, { props: { mode: 'edit', initial: formFromTarget(makeTarget()) } })
    await w.get('select[name="schedule_kind"]').setValue('hourly')
    expect(w.findAll('label').some((l) => l.text() === TIME)).toBe(false)
    await byLabel(w, 'Every (hours)').setValue('8')
    await byLabel(w, 'At minute (UTC)').setValue('30')
    expect(w.get('[data-testid="hourly-runs"]').text()).toBe('Runs at (your time): 00:30, 08:30, 16:30')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')![0]![0]).toMatchObject({
      schedule_kind: 'hourly', schedule_time: null, schedule_every_hours: 8, schedule_minute: 30,
    })
    await w.get('select[name="schedule_kind"]').setValue('weekly')
    await w.get('input[name="weekday-fri"]').setValue(true)
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')![1]![0]).toMatchObject({ schedule_kind: 'weekly', schedule_time: '03:00', schedule_weekdays: ['mon', 'fri'] })
  })

  it('asks for a connection test with the typed fields and shows the report', async () => {
    const w = mount(TargetForm, { props: { mode: 'edit', initial: formFromTarget(makeTarget()) } })
    await w.findAll('button').find((b) => b.text() === 'Test connection')!.trigger('click')
    expect(w.emitted('test')![0]![1]).toBe(false)
    await w.setProps({ testResult: { ok: false, server_version: null, database_exists: null, can_read: null, message: 'Access denied', tls_version: null, tls_cipher: null, databases: null } })
    expect(w.get('[data-testid="test-result"]').text()).toContain('Connection failed: Access denied')
    await w.setProps({ testResult: { ok: true, server_version: '10.11.19-MariaDB', database_exists: true, can_read: true, message: 'connected', tls_version: null, tls_cipher: null, databases: null }, testedStored: true })
    expect(w.get('[data-testid="test-result"]').text()).toContain('Connected: 10.11.19-MariaDB')
    expect(w.get('[data-testid="test-result"]').text()).toContain('Tested the saved settings')
  })

  it('disables Save while saving and shows a password problem reported by the server', async () => {
    const w = mount(TargetForm, {
      props: { mode: 'edit', initial: formFromTarget(makeTarget()), saving: true, passwordError: 'cannot decrypt' },
    })
    expect(w.findAll('button').find((b) => b.text() === 'Save')!.attributes('disabled')).toBeDefined()
    expect(w.text()).toContain('cannot decrypt')
    await w.findAll('button').find((b) => b.text() === 'Cancel')!.trigger('click')
    expect(w.emitted('cancel')).toBeUndefined() // Cancel is disabled while saving
  })
})
