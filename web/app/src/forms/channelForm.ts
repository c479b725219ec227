// The notification channel form: its state, which fields each kind uses (mirroring
// dumper/notify/channels.py TYPE_FIELDS) and the conversion to the API body.
import type { Channel, ChannelInput } from '@/services/api'

export type ChannelKind = ChannelInput['type']
export type EventName = NonNullable<ChannelInput['events']>[number]

export const KINDS: ChannelKind[] = ['webhook', 'ntfy', 'gotify', 'discord', 'slack', 'email']
export const EVENTS: EventName[] = [
  'backup_failed',
  'backup_succeeded',
  'restore_finished',
  'restore_failed',
  'target_stale',
  'disk_low',
  'password_undecryptable',
  'verification_failed',
  'file_corrupt',
  'file_missing',
]
export const DEFAULT_EVENTS: EventName[] = EVENTS.filter((e) => e !== 'backup_succeeded')

export type FieldKey =
  | 'url'
  | 'secret'
  | 'topic'
  | 'token'
  | 'smtp_host'
  | 'smtp_port'
  | 'smtp_security'
  | 'smtp_user'
  | 'smtp_password'
  | 'mail_from'
  | 'mail_to'

/** The fields of each kind, in form order. */
export const KIND_FIELDS: Record<ChannelKind, FieldKey[]> = {
  webhook: ['url', 'secret'],
  ntfy: ['url', 'topic', 'token'],
  gotify: ['url', 'token'],
  discord: ['url'],
  slack: ['url'],
  email: ['smtp_host', 'smtp_port', 'smtp_security', 'smtp_user', 'smtp_password', 'mail_from', 'mail_to'],
}
/** Write-only fields of a kind: empty on edit keeps the stored value. */
export function secretFields(kind: ChannelKind): FieldKey[] {
  const always: FieldKey[] = ['secret', 'token', 'smtp_password']
  return KIND_FIELDS[kind].filter((f) => always.includes(f) || (f === 'url' && (kind === 'discord' || kind === 'slack')))
}

export interface ChannelFormState {
  type: ChannelKind
  name: string
  events: EventName[]
  enabled: boolean
  fields: Record<FieldKey, string>
}

function blankFields(): Record<FieldKey, string> {
  return {
    url: '',
    secret: '',
    topic: '',
    token: '',
    smtp_host: '',
    smtp_port: '587',
    smtp_security: 'starttls',
    smtp_user: '',
    smtp_password: '',
    mail_from: '',
    mail_to: '',
  }
}

export function emptyChannelForm(): ChannelFormState {
  return { type: 'webhook', name: '', events: [...DEFAULT_EVENTS], enabled: true, fields: blankFields() }
}

export function formFromChannel(c: Channel): ChannelFormState {
  const fields = blankFields()
  for (const key of Object.keys(fields) as FieldKey[]) {
    const value = (c as unknown as Record<string, unknown>)[key]
    if (value !== null && value !== undefined) fields[key] = String(value)
  }
  return {
    type: c.type as ChannelKind,
    name: c.name,
    events: c.events as EventName[],
    enabled: c.enabled,
    fields,
  }
}

/** The API body: only the kind's fields; an empty secret is left out (kept on edit). */
export function toChannelInput(s: ChannelFormState): ChannelInput {
  const input: ChannelInput = { type: s.type, name: s.name.trim(), events: [...s.events], enabled: s.enabled }
  const secrets = secretFields(s.type)
  const body = input as unknown as Record<string, unknown>
  for (const key of KIND_FIELDS[s.type]) {
    const value = s.fields[key].trim()
    if (value === '') {
      if (!secrets.includes(key) && key !== 'smtp_user') body[key] = null
      continue
    }
    body[key] = key === 'smtp_port' ? Number(value) : value
  }
  return input
}
