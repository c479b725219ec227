// The target form: its state, the client-side rules (mirroring the server's, docs/API.md) and
// the conversion to the API body. The server stays the judge; this only saves a round trip.
import type { Target, TargetInput } from '@/services/api'
import type { MessageKey, Params } from '@/i18n'
import { isValidHHMM } from '@/utils/format'
import { emptyOps, opsFromTarget, opsInput, validateOps, validateSchedule, type TargetOps } from './targetOps'
import { localTimeToUtc, shiftWeekdays, utcTimeToLocalDay } from '@/utils/schedule'

export interface TargetFormState {
  name: string
  host: string
  port: string
  dbname: string
  /** dbname `*` (every database): the databases left out, comma-separated with `*` */
  exclude: string
  user: string
  password: string
  comment: string
  scheduleEnabled: boolean
  /** local wall-clock time (the server keeps UTC) */
  schedule_time: string
  retention_days: string
  auto_compress: boolean
  /** notifications, dead-man's switch, retention rules (targetOps.ts) */
  ops: TargetOps
  /** TLS to the database server; tls_key empty on edit keeps the stored key */
  tls: TlsMode
  tls_ca: string
  tls_cert: string
  tls_key: string
  /** encrypted backups (age); age_passphrase empty on edit keeps the stored one */
  encryption: EncryptionMode
  age_recipient: string
  age_passphrase: string
  hasStoredPassphrase: boolean
}

export type EncryptionMode = NonNullable<TargetInput['encryption']>
export const ENCRYPTION_MODES: readonly EncryptionMode[] = ['off', 'recipient', 'passphrase']
/** An age X25519 recipient: bech32 of 32 bytes (the server checks the checksum). */
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/
export const PASSPHRASE_MIN = 12

export type TlsMode = NonNullable<TargetInput['tls']>
export const TLS_MODES: readonly TlsMode[] = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity']

export type FieldName = keyof TargetInput
export interface Issue {
  key: MessageKey
  params?: Params
}
export type FieldIssues = Partial<Record<FieldName, Issue>>

/** The dbname of a target that backs up every database its user can see. */
export const SERVER_DBNAME = '*'

export const LIMITS = {
  name: 64,
  dbname: 64,
  exclude: 1000,
  host: 255,
  user: 255,
  comment: 1000,
  port: [1, 65535],
  retention: [0, 3650],
} as const

export function emptyForm(): TargetFormState {
  return {
    name: '',
    host: '',
    port: '3306',
    dbname: '',
    exclude: '',
    user: '',
    password: '',
    comment: '',
    scheduleEnabled: true,
    schedule_time: '03:00',
    retention_days: '14',
    auto_compress: true,
    ops: emptyOps(),
    tls: 'preferred',
    tls_ca: '',
    tls_cert: '',
    tls_key: '',
    encryption: 'off',
    age_recipient: '',
    age_passphrase: '',
    hasStoredPassphrase: false,
  }
}

export function formFromTarget(t: Target): TargetFormState {
  const ops = opsFromTarget(t)
  const local = t.schedule_time ? utcTimeToLocalDay(t.schedule_time) : null
  ops.weekdays = shiftWeekdays(ops.weekdays, local?.shift ?? 0)
  if (ops.weekdays.length === 0) ops.weekdays = ['mon']
  return {
    name: t.name,
    host: t.host,
    port: String(t.port),
    dbname: t.dbname,
    exclude: t.exclude,
    user: t.user,
    password: '',
    comment: t.comment,
    scheduleEnabled: t.schedule_time !== null || t.schedule_kind === 'hourly',
    schedule_time: local?.time ?? '03:00',
    retention_days: String(t.retention_days),
    auto_compress: t.auto_compress,
    ops,
    tls: t.tls,
    tls_ca: t.tls_ca,
    tls_cert: t.tls_cert,
    tls_key: '',
    encryption: t.encryption,
    age_recipient: t.age_recipient,
    age_passphrase: '',
    hasStoredPassphrase: t.has_age_passphrase,
  }
}

const INT = /^-?\d+$/

function intIssue(value: string, [min, max]: readonly [number, number]): Issue | undefined {
  const v = value.trim()
  if (v === '') return { key: 'validation.required' }
  if (!INT.test(v)) return { key: 'validation.integer' }
  const n = Number(v)
  if (n < min || n > max) return { key: 'validation.range', params: { min, max } }
  return undefined
}

const CONTROL = /[\u0000-\u001f]/

/** Length in code points, as the server (Python len) counts it. */
function textIssue(value: string, max: number, required: boolean, controlOk = false): Issue | undefined {
  if (required && value.trim() === '') return { key: 'validation.required' }
  if ([...value].length > max) return { key: 'validation.maxLength', params: { max } }
  if (!controlOk && CONTROL.test(value)) return { key: 'validation.control' }
  return undefined
}

/** Every rule of the server's target input; an empty object means the form may be sent. */
export function validateTarget(s: TargetFormState): FieldIssues {
  const issues: FieldIssues = {}
  const set = (field: FieldName, issue: Issue | undefined) => {
    if (issue) issues[field] = issue
  }
  set('name', textIssue(s.name, LIMITS.name, true))
  set('host', textIssue(s.host, LIMITS.host, true))
  set('port', intIssue(s.port, LIMITS.port))
  set('dbname', textIssue(s.dbname, LIMITS.dbname, true))
  Object.assign(issues, validateServer(s))
  set('user', textIssue(s.user, LIMITS.user, true))
  set('comment', textIssue(s.comment, LIMITS.comment, false, true))
  const timed = s.scheduleEnabled && s.ops.schedule_kind !== 'hourly'
  if (timed && !isValidHHMM(s.schedule_time)) set('schedule_time', { key: 'validation.time' })
  if (s.scheduleEnabled) Object.assign(issues, validateSchedule(s.ops))
  set('retention_days', intIssue(s.retention_days, LIMITS.retention))
  Object.assign(issues, validateEncryption(s))
  return { ...issues, ...validateOps(s.ops) }
}

/** A whole server (dumper/targets.py _check_server): `*` alone, and only it takes `exclude`. */
export function validateServer(s: TargetFormState): FieldIssues {
  const issues: FieldIssues = {}
  const dbname = s.dbname.trim()
  if (dbname.includes('*') && dbname !== SERVER_DBNAME) issues.dbname = { key: 'set.field.dbname' }
  const exclude = textIssue(s.exclude, LIMITS.exclude, false)
  if (exclude) issues.exclude = exclude
  else if (s.exclude.trim() !== '' && dbname !== SERVER_DBNAME) issues.exclude = { key: 'set.field.exclude' }
  return issues
}

/** The encryption fields' rules (dumper/encryption.py check_fields). */
export function validateEncryption(s: TargetFormState): FieldIssues {
  const issues: FieldIssues = {}
  if (s.encryption === 'recipient') {
    if (!AGE_RECIPIENT.test(s.age_recipient.trim())) issues.age_recipient = { key: 'encryption.field.recipient' }
    if (s.ops.verify_after_backup) issues.verify_after_backup = { key: 'encryption.field.noVerifyAfter' }
  }
  if (s.encryption === 'passphrase' && s.age_passphrase === '' && !s.hasStoredPassphrase) {
    issues.age_passphrase = { key: 'encryption.field.passphraseRequired' }
  }
  if (s.age_passphrase !== '' && [...s.age_passphrase].length < PASSPHRASE_MIN) {
    issues.age_passphrase = { key: 'encryption.field.passphraseShort', params: { min: PASSPHRASE_MIN } }
  }
  return issues
}

/** The schedule part of the API body: the local time (and weekdays) as UTC. */
function scheduleInput(s: TargetFormState): Partial<TargetInput> {
  if (!s.scheduleEnabled) return { schedule_kind: 'daily', schedule_time: null }
  const kind = s.ops.schedule_kind
  const utc = localTimeToUtc(s.schedule_time)
  return {
    schedule_kind: kind,
    schedule_time: kind === 'hourly' ? null : (utc?.time ?? s.schedule_time),
    schedule_every_hours: Number(s.ops.every_hours.trim()),
    schedule_minute: Number(s.ops.minute.trim()),
    schedule_weekdays: shiftWeekdays(s.ops.weekdays, utc?.shift ?? 0),
  }
}

/**
 * The API body. On edit an empty password is left out so the stored one is kept; on create
 * it is sent as typed (an empty password is a valid MySQL password).
 */
export function toTargetInput(s: TargetFormState, mode: 'create' | 'edit'): TargetInput {
  const input: TargetInput = {
    name: s.name.trim(),
    host: s.host.trim(),
    port: Number(s.port.trim()),
    dbname: s.dbname.trim(),
    // always sent: a PUT without it would forget the list; only `*` takes one
    exclude: s.dbname.trim() === SERVER_DBNAME ? s.exclude.trim() : '',
    user: s.user.trim(),
    comment: s.comment,
    retention_days: Number(s.retention_days.trim()),
    auto_compress: s.auto_compress,
    ...opsInput(s.ops),
    ...scheduleInput(s),
    // always sent: a field left out of a PUT takes its default, which would drop TLS settings
    tls: s.tls,
    tls_ca: s.tls_ca,
    tls_cert: s.tls_cert,
    // always sent too: a PUT without it would turn encryption off
    encryption: s.encryption,
    age_recipient: s.age_recipient.trim(),
  }
  if (mode === 'create' || s.password !== '') input.password = s.password
  if (s.tls_key !== '') input.tls_key = s.tls_key
  if (s.encryption === 'passphrase' && s.age_passphrase !== '') input.age_passphrase = s.age_passphrase
  return input
}
