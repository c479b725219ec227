import { afterEach, describe, expect, it } from 'vitest'
import { emptyForm, formFromTarget, toTargetInput, validateTarget, type TargetFormState } from './targetForm'
import { emptyOps, opsInput } from './targetOps'
import { makeTarget } from '@/test/helpers'

function valid(over: Partial<TargetFormState> = {}): TargetFormState {
  return { ...emptyForm(), name: 'shop', host: 'db.lan', dbname: 'shop', user: 'backup', ...over }
}

describe('target form validation (mirrors the server rules)', () => {
  it('accepts a complete form', () => {
    expect(validateTarget(valid())).toEqual({})
  })

  it('requires name, host, dbname and user', () => {
    const issues = validateTarget(valid({ name: ' ', host: '', dbname: '', user: '' }))
    expect(Object.keys(issues).sort()).toEqual(['dbname', 'host', 'name', 'user'])
    expect(issues.name?.key).toBe('validation.required')
  })

  it('limits name and dbname to 64 characters and comment to 1000', () => {
    expect(validateTarget(valid({ name: 'a'.repeat(64), dbname: 'b'.repeat(64), comment: 'c'.repeat(1000) }))).toEqual({})
    const issues = validateTarget(valid({ name: 'a'.repeat(65), dbname: 'b'.repeat(65), comment: 'c'.repeat(1001) }))
    expect(issues.name).toEqual({ key: 'validation.maxLength', params: { max: 64 } })
    expect(issues.dbname?.key).toBe('validation.maxLength')
    expect(issues.comment).toEqual({ key: 'validation.maxLength', params: { max: 1000 } })
  })

  it('limits host and user to 255 characters and refuses control characters except in the comment', () => {
    expect(validateTarget(valid({ host: 'h'.repeat(255), user: 'u'.repeat(255) }))).toEqual({})
    expect(validateTarget(valid({ host: 'h'.repeat(256) })).host?.key).toBe('validation.maxLength')
    expect(validateTarget(valid({ user: 'u'.repeat(256) })).user?.key).toBe('validation.maxLength')
    expect(validateTarget(valid({ name: 'sh\top' })).name?.key).toBe('validation.control')
    expect(validateTarget(valid({ comment: 'line 1\nline 2' })).comment).toBeUndefined()
  })

  it('counts characters, not UTF-16 units', () => {
    expect(validateTarget(valid({ name: '😀'.repeat(64) }))).toEqual({})
  })

  it('wants a whole port between 1 and 65535', () => {
    for (const ok of ['1', '3306', '65535']) expect(validateTarget(valid({ port: ok })).port).toBeUndefined()
    expect(validateTarget(valid({ port: '0' })).port).toEqual({ key: 'validation.range', params: { min: 1, max: 65535 } })
    expect(validateTarget(valid({ port: '65536' })).port?.key).toBe('validation.range')
    expect(validateTarget(valid({ port: '33.5' })).port?.key).toBe('validation.integer')
    expect(validateTarget(valid({ port: 'abc' })).port?.key).toBe('validation.integer')
    expect(validateTarget(valid({ port: '' })).port?.key).toBe('validation.required')
  })

  it('wants retention days between 0 and 3650', () => {
    expect(validateTarget(valid({ retention_days: '0' })).retention_days).toBeUndefined()
    expect(validateTarget(valid({ retention_days: '3650' })).retention_days).toBeUndefined()
    expect(validateTarget(valid({ retention_days: '3651' })).retention_days?.key).toBe('validation.range')
    expect(validateTarget(valid({ retention_days: '-1' })).retention_days?.key).toBe('validation.range')
  })

  it('checks the daily time as HH:MM only when a schedule is on', () => {
    expect(validateTarget(valid({ schedule_time: '23:59' })).schedule_time).toBeUndefined()
    expect(validateTarget(valid({ schedule_time: '24:00' })).schedule_time?.key).toBe('validation.time')
    expect(validateTarget(valid({ schedule_time: '3:00' })).schedule_time?.key).toBe('validation.time')
    expect(validateTarget(valid({ scheduleEnabled: false, schedule_time: '' })).schedule_time).toBeUndefined()
  })
})

describe('a whole server (database *)', () => {
  it('takes * alone as the database, and only * takes databases to leave out', () => {
    expect(validateTarget(valid({ dbname: '*', exclude: 'test_*, scratch' }))).toEqual({})
    expect(validateTarget(valid({ dbname: 'shop*' })).dbname?.key).toBe('set.field.dbname')
    expect(validateTarget(valid({ dbname: 'shop', exclude: 'test_*' })).exclude?.key).toBe('set.field.exclude')
    expect(validateTarget(valid({ dbname: '*', exclude: 'x'.repeat(1001) })).exclude?.key).toBe('validation.maxLength')
  })

  it('sends the list trimmed for *, and an empty one for a single database', () => {
    expect(toTargetInput(valid({ dbname: ' * ', exclude: ' test_* ' }), 'edit')).toMatchObject({ dbname: '*', exclude: 'test_*' })
    expect(toTargetInput(valid({ dbname: 'shop', exclude: '' }), 'edit').exclude).toBe('')
    expect(formFromTarget(makeTarget({ dbname: '*', exclude: 'a, b*' })).exclude).toBe('a, b*')
  })
})

describe('form <-> API body', () => {
  it('converts numbers, trims text and sends null for no schedule', () => {
    const input = toTargetInput(valid({ name: ' shop ', port: '3307', retention_days: '0', scheduleEnabled: false }), 'create')
    expect(input).toEqual({
      name: 'shop',
      host: 'db.lan',
      port: 3307,
      dbname: 'shop',
      exclude: '',
      user: 'backup',
      password: '',
      comment: '',
      schedule_kind: 'daily',
      schedule_time: null,
      retention_days: 0,
      auto_compress: true,
      ...opsInput(emptyOps()), // the operations fields: targetOps.ts
      tls: 'preferred',
      tls_ca: '',
      tls_cert: '',
      encryption: 'off',
      age_recipient: '',
    })
  })

  it('leaves an empty password out on edit so the stored one is kept', () => {
    expect('password' in toTargetInput(valid({ password: '' }), 'edit')).toBe(false)
    expect(toTargetInput(valid({ password: 's3cret' }), 'edit').password).toBe('s3cret')
  })

  it('fills the form from a target without its password', () => {
    const form = formFromTarget(makeTarget({ schedule_time: null, port: 3310, retention_days: 0 }))
    expect(form).toMatchObject({ name: 'shop', port: '3310', password: '', scheduleEnabled: false, retention_days: '0' })
    expect(formFromTarget(makeTarget()).schedule_time).toBe('03:00')
  })
})

describe('target form: operations fields', () => {
  it('keeps the notification opt-out through edit and save', () => {
    const form = formFromTarget(makeTarget({ notify: false }))
    expect(form.ops.notify).toBe(false)
    expect(toTargetInput(form, 'edit').notify).toBe(false)
    expect(toTargetInput(valid(), 'create').notify).toBe(true)
    expect(toTargetInput(valid(), 'create').verify_after_backup).toBe(false)
    expect(toTargetInput(formFromTarget(makeTarget({ verify_after_backup: true })), 'edit').verify_after_backup).toBe(true)
  })
})

describe('target form: parallel connections', () => {
  it('keeps the number through edit and save, 1 for a new target', () => {
    expect(toTargetInput(valid(), 'create').parallel_connections).toBe(1)
    const form = formFromTarget(makeTarget({ parallel_connections: 3 }))
    expect(form.ops.parallel_connections).toBe(3)
    expect(toTargetInput(form, 'edit').parallel_connections).toBe(3)
  })
})

describe('target form: dead-man switch', () => {
  it('sends the ping URL, null when empty, and refuses what is not http(s)', () => {
    const form = valid()
    expect(toTargetInput(form, 'create').ping_url).toBeNull()
    form.ops.ping_url = ' https://hc-ping.example.org/abc '
    expect(toTargetInput(form, 'create').ping_url).toBe('https://hc-ping.example.org/abc')
    expect(validateTarget(form)).toEqual({})
    form.ops.ping_url = 'ftp://x'
    expect(validateTarget(form).ping_url?.key).toBe('validation.url')
    expect(formFromTarget(makeTarget({ ping_url: 'https://h.example.org/1' })).ops.ping_url).toBe('https://h.example.org/1')
  })
})

describe('target form: retention rules', () => {
  it('sends the keep rules as numbers and checks their ranges', () => {
    const form = formFromTarget(makeTarget({ keep_daily: 7, keep_monthly: 12 }))
    expect(form.ops.keep.keep_daily).toBe('7')
    form.ops.keep.keep_last = ' 3 '
    expect(toTargetInput(form, 'edit')).toMatchObject({ keep_last: 3, keep_daily: 7, keep_weekly: 0, keep_monthly: 12, keep_yearly: 0 })
    form.ops.keep.keep_yearly = '101'
    form.ops.keep.keep_weekly = 'x'
    const issues = validateTarget(form)
    expect(issues.keep_yearly).toEqual({ key: 'validation.range', params: { min: 0, max: 100 } })
    expect(issues.keep_weekly?.key).toBe('validation.integer')
  })
})

describe('target form: schedules in local time', () => {
  const savedTZ = process.env.TZ
  afterEach(() => {
    process.env.TZ = savedTZ
  })

  it('takes the daily time as local time and sends UTC', () => {
    process.env.TZ = 'Asia/Kolkata' // +05:30, no summer time
    const form = valid({ schedule_time: '04:30' })
    expect(toTargetInput(form, 'create')).toMatchObject({ schedule_kind: 'daily', schedule_time: '23:00' })
    expect(formFromTarget(makeTarget({ schedule_time: '23:00' })).schedule_time).toBe('04:30')
  })

  it('moves weekly weekdays with the time across midnight', () => {
    process.env.TZ = 'Asia/Kolkata'
    const form = valid({ schedule_time: '02:00' })
    form.ops.schedule_kind = 'weekly'
    form.ops.weekdays = ['mon', 'thu']
    expect(toTargetInput(form, 'create')).toMatchObject({
      schedule_kind: 'weekly', schedule_time: '20:30', schedule_weekdays: ['wed', 'sun'],
    })
    const back = formFromTarget(makeTarget({ schedule_kind: 'weekly', schedule_time: '20:30', schedule_weekdays: ['wed', 'sun'] }))
    expect(back.ops.weekdays).toEqual(['mon', 'thu'])
    expect(back.schedule_time).toBe('02:00')
  })

  it('sends an hourly schedule without a time, and no schedule as daily without one', () => {
    const form = valid()
    form.ops.schedule_kind = 'hourly'
    form.ops.every_hours = '4'
    form.ops.minute = '15'
    expect(toTargetInput(form, 'create')).toMatchObject({
      schedule_kind: 'hourly', schedule_time: null, schedule_every_hours: 4, schedule_minute: 15,
    })
    form.scheduleEnabled = false
    expect(toTargetInput(form, 'create')).toMatchObject({ schedule_kind: 'daily', schedule_time: null })
  })

  it('checks what each kind needs', () => {
    const form = valid({ schedule_time: 'x' })
    form.ops.schedule_kind = 'hourly'
    form.ops.every_hours = '24'
    form.ops.minute = '60'
    const issues = validateTarget(form)
    expect(issues.schedule_time).toBeUndefined() // hourly has no time
    expect(issues.schedule_every_hours?.key).toBe('validation.range')
    expect(issues.schedule_minute?.key).toBe('validation.range')
    form.ops.schedule_kind = 'weekly'
    form.schedule_time = '03:00'
    form.ops.weekdays = []
    expect(validateTarget(form).schedule_weekdays?.key).toBe('validation.weekdays')
  })
})

describe('TLS settings in the form', () => {
  it('an edit sends the stored TLS settings back, so saving never resets them', () => {
    const t = makeTarget({ tls: 'verify-ca', tls_ca: '-----BEGIN CERTIFICATE-----\nx\n', tls_cert: '', has_tls_key: true })
    const input = toTargetInput(formFromTarget(t), 'edit')
    expect(input.tls).toBe('verify-ca')
    expect(input.tls_ca).toContain('BEGIN CERTIFICATE')
    expect('tls_key' in input).toBe(false) // empty: the server keeps the stored key
  })

  it('a typed client key is sent, and a new target starts with TLS when offered', () => {
    const s = emptyForm()
    expect(s.tls).toBe('preferred')
    s.tls_key = '-----BEGIN PRIVATE KEY-----'
    expect(toTargetInput(s, 'create').tls_key).toBe('-----BEGIN PRIVATE KEY-----')
  })
})
