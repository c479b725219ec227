import { describe, expect, it } from 'vitest'
import { errorText, fieldErrorText } from './errors'
import { translate, type MessageKey, type Params } from '.'
import { ApiError } from '@/services/api'

const en = (key: MessageKey, params?: Params) => translate('en', key, params)
const de = (key: MessageKey, params?: Params) => translate('de', key, params)

describe('error texts', () => {
  it('turns every code the server sends into text, with its message as the detail where it carries one', () => {
    const codes = [
      'bad_request', 'confirmation_required', 'invalid_input', 'not_found', 'conflict', 'decryption_failed',
      'connection_failed', 'backup_corrupt', 'payload_too_large', 'unauthorized', 'forbidden',
      'too_many_requests', 'method_not_allowed', 'range_not_satisfiable', 'internal',
    ]
    for (const code of codes) {
      const text = errorText(new ApiError(400, code, 'server says'), de)
      expect(text, code).not.toBe('server says')
      expect(text, code).not.toContain('error.')
    }
    const failed = new ApiError(502, 'connection_failed', "(1045) Access denied for user 'x'")
    expect(errorText(failed, de)).toBe("Keine Verbindung zur Datenbank: (1045) Access denied for user 'x'")
    expect(errorText(new ApiError(500, 'internal', 'internal server error'), en)).toBe(
      'Internal server error; the server log has the details.',
    )
    expect(errorText(new ApiError(0, 'network', 'Failed to fetch'), de)).toBe('Der Server ist nicht erreichbar.')
  })

  it('shows an unknown code (a proxy page) as the server sent it', () => {
    expect(errorText(new ApiError(502, 'http_502', 'Bad Gateway'), de)).toBe('Bad Gateway')
  })

  it('translates the field messages of the target validation, and keeps unknown ones', () => {
    expect(fieldErrorText('already taken', de)).toBe('Bereits vergeben.')
    expect(fieldErrorText('must be an integer from 1 to 65535', en)).toBe('Must be between 1 and 65535.')
    expect(fieldErrorText('must be between 0 and 3650', de)).toBe('Muss zwischen 0 und 3650 liegen.')
    expect(fieldErrorText('must be at most 64 characters', en)).toBe('At most 64 characters.')
    expect(fieldErrorText('must be HH:MM between 00:00 and 23:59, or null', en)).toBe('Use HH:MM between 00:00 and 23:59.')
    for (const m of ['is required', 'must not be empty', 'must not be blank', 'must be a string',
      'must not contain control characters', 'must be true or false', 'unknown field']) {
      expect(fieldErrorText(m, de), m).not.toBe(m)
    }
    expect(fieldErrorText('something new', de)).toBe('something new')
    expect(errorText(new ApiError(422, 'invalid_input', 'invalid target: name', { name: 'already taken' }), de)).toBe(
      'Einige Angaben sind ungültig. (name: Bereits vergeben.)',
    )
  })
})
