// What the server (and the client itself) says went wrong, in the UI's language: the one table
// from error code to text, and the one table from the server's field messages to texts.
// A code's text takes the server's message as {detail} where that carries the specifics (the
// reason a connection failed, what clashed); a code or field message not known here shows as sent.
import { ApiError } from '@/services/api'
import type { MessageKey, Params } from '.'

export type Translate = (key: MessageKey, params?: Params) => string

/** The codes of dumper/http/router.py ERROR_TABLE, the dispatcher's `internal`, and the client's `network`. */
const CODE_TEXT: Record<string, MessageKey> = {
  bad_request: 'error.bad_request',
  confirmation_required: 'error.confirmation_required',
  invalid_input: 'error.invalid_input',
  not_found: 'error.not_found',
  conflict: 'error.conflict',
  decryption_failed: 'error.decryption_failed',
  connection_failed: 'error.connection_failed',
  backup_corrupt: 'error.backup_corrupt',
  payload_too_large: 'error.payload_too_large',
  unauthorized: 'error.unauthorized',
  forbidden: 'error.forbidden',
  too_many_requests: 'error.too_many_requests',
  method_not_allowed: 'error.method_not_allowed',
  range_not_satisfiable: 'error.range_not_satisfiable',
  internal: 'error.internal',
  network: 'error.network',
}

/** The field messages of dumper/targets.py validate_target (and the store's "already taken"). */
const FIELD_TEXT: ReadonlyArray<readonly [RegExp, MessageKey]> = [
  [/^is required$/, 'validation.required'],
  [/^must not be empty$/, 'validation.required'],
  [/^must not be blank$/, 'validation.blank'],
  [/^must be a string$/, 'validation.string'],
  [/^must be at most (?<max>\d+) characters$/, 'validation.maxLength'],
  [/^must not contain control characters$/, 'validation.control'],
  [/^must be (?:an integer )?(?:from|between) (?<min>-?\d+) (?:to|and) (?<max>-?\d+)$/, 'validation.range'],
  [/^must be HH:MM between 00:00 and 23:59(?:, or null)?$/, 'validation.time'],
  [/^must be true or false$/, 'validation.boolean'],
  [/^already taken$/, 'validation.taken'],
  [/^unknown field$/, 'validation.unknownField'],
]

/** A server field message in the UI's language, or as sent when it is not one we know. */
export function fieldErrorText(message: string, t: Translate): string {
  for (const [pattern, key] of FIELD_TEXT) {
    const match = pattern.exec(message)
    if (match) return t(key, match.groups)
  }
  return message
}

/** A readable sentence for any thrown value; field errors are appended for 422s. */
export function errorText(e: unknown, t: Translate): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e)
  const key = CODE_TEXT[e.code]
  const text = key ? t(key, { detail: e.message }) : e.message
  const fields = Object.entries(e.fields)
  if (fields.length === 0) return text
  return `${text} (${fields.map(([k, v]) => `${k}: ${fieldErrorText(v, t)}`).join('; ')})`
}
