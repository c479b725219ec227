import { describe, expect, it } from 'vitest'
import { errorText, fieldErrorText, notesText, reportText } from './errors'
import { translate, type MessageKey, type Params } from '.'
import { ApiError } from '@/services/api'

const en = (key: MessageKey, params?: Params) => translate('en', key, params)
const en_ = en
const de = (key: MessageKey, params?: Params) => translate('de', key, params)

describe('error texts', () => {
  it('turns every code the server sends into text, with its message as the detail where it carries one', () => {
    const codes = [
      'bad_request', 'confirmation_required', 'invalid_input', 'not_found', 'conflict', 'decryption_failed',
      'connection_failed', 'backup_corrupt', 'payload_too_large', 'unauthorized', 'forbidden',
      'too_many_requests', 'method_not_allowed', 'range_not_satisfiable', 'internal', 'key_required',
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

  // Every error docs/API.md documents, as the server words it (dumper/app.py, jobs.py, store.py,
  // http/dispatch.py, router.py, server.py, backup/dsn.py): German shows none of these words.
  const documented: Array<[number, string, string, Record<string, string>?]> = [
    [409, 'conflict', "target 'shop' has 2 backup(s); delete them too (with_backups=true), keep their files (keep_files=true) or keep the target"],
    [409, 'conflict', "a backup of target 'shop' is already running (id 12)"],
    [409, 'conflict', "a restore of target \"o'hara\" is already running (id 3)"],
    [409, 'conflict', "database 'shopdb' on db.lan:3306 is busy: backup 12 of target 'crm' is running on it"],
    [409, 'conflict', 'the service is shutting down'],
    [409, 'conflict', 'backup 5 is still running'],
    [409, 'conflict', 'backup 5 is being restored'],
    [409, 'conflict', 'backup 5 already ended (success): nothing to cancel'],
    [409, 'conflict', 'restore 2 already ended (failed): nothing to cancel'],
    [409, 'conflict', 'restore 2 is not run by this service: it cannot be cancelled here'],
    [409, 'conflict', "a target named 'shop' already exists", { name: 'already taken' }],
    [409, 'decryption_failed', 'stored secret is truncated'],
    [400, 'confirmation_required', "type the target name 'shop' to confirm the restore", { confirm: 'must be the exact target name' }],
    [422, 'invalid_input', 'backup 4 is failed; only a successful backup can be restored', { backup: 'status is failed' }],
    [422, 'invalid_input', 'with_backups must be true or false', { with_backups: 'must be true or false' }],
    [422, 'invalid_input', 'expected a JSON object', { body: 'must be an object' }],
    [422, 'invalid_input', 'invalid target: port, schedule_time', { port: 'must be an integer from 1 to 65535', schedule_time: 'must be HH:MM between 00:00 and 23:59, or null' }],
    [404, 'not_found', 'target 9999 not found'],
    [404, 'not_found', 'backup 5 has no file'],
    [404, 'not_found', 'the file of backup 5 is gone'],
    [403, 'forbidden', 'cross-site request refused (Sec-Fetch-Site: cross-site)'],
    [403, 'forbidden', 'cross-site request refused: the Origin is not this service'],
    [400, 'bad_request', 'this host name is not in ALLOWED_HOSTS'],
    [400, 'bad_request', 'the path holds a control character'],
    [400, 'bad_request', 'chunked request bodies are not supported; send Content-Length'],
    [400, 'bad_request', 'conflicting Content-Length headers'],
    [400, 'bad_request', 'invalid Content-Length'],
    [400, 'bad_request', 'a JSON body is required'],
    [400, 'bad_request', 'Content-Type must be application/json'],
    [400, 'bad_request', 'malformed JSON: Expecting value: line 1 column 1 (char 0)'],
    [400, 'bad_request', 'JSON nested deeper than 32 levels'],
    [400, 'bad_request', 'the body must be a JSON object'],
    [400, 'bad_request', 'the request body ended early (or took longer than HTTP_TIMEOUT)'],
    [413, 'payload_too_large', 'request body is larger than 1048576 bytes'],
    [401, 'unauthorized', 'authentication required'],
    [429, 'too_many_requests', 'too many failed logins; try again later'],
    [405, 'method_not_allowed', 'method not allowed'],
    [416, 'range_not_satisfiable', 'range not satisfiable'],
    [500, 'internal', 'internal server error'],
    [502, 'connection_failed', 'cannot connect to mysql://backup@db.lan:3306/shop: invalid host name'],
    [422, 'key_required', 'this backup is encrypted: give its identity (AGE-SECRET-KEY-1...) or passphrase', { identity: 'required' }],
    [422, 'key_required', 'the identity or passphrase given does not open this encrypted backup', { identity: 'no match' }],
    [422, 'key_required', 'the encrypted file is whole as far as can be seen without its key (2 chunks checked); the test restore needs its identity or passphrase', { identity: 'required' }],
    [422, 'key_required', 'the encrypted file is whole as far as can be seen without its key (3 chunks, the recorded sha256 matches); the test restore needs its identity or passphrase', { identity: 'required' }],
    [422, 'invalid_input', 'invalid encryption: age_passphrase, age_recipient, verify_after_backup', {
      age_recipient: 'must be an age public key (age1...)',
      age_passphrase: 'must be at least 12 characters',
      verify_after_backup: 'cannot be on with a recipient: only its identity, kept offline, reads the backups',
    }],
    [422, 'invalid_input', 'invalid encryption: age_passphrase', { age_passphrase: 'is required for passphrase encryption' }],
    [422, 'invalid_input', 'give identity or passphrase, not both', { identity: 'give identity or passphrase, not both' }],
    [502, 'connection_failed', 'cannot connect to mysql://backup@db.lan:3306/shop: the server accepted the connection but did not answer the MySQL handshake within 15 s (is this a MySQL port?)'],
  ]
  // English words of our own that must not show in German (names, numbers and MySQL's text aside).
  const english = /\b(target|running|already|refused|cannot|connect|request|must|backups?\(s\)|file|gone|found|shutting|restored|ended|nothing|exists|taken|invalid|required|chunked|malformed|nested|deeper|larger|bytes|character|authentication|method|range|internal|handshake|status|successful|object|expected)\b/i

  it('shows no English server text in German for any error docs/API.md documents', () => {
    for (const [status, code, message, fields] of documented) {
      const text = errorText(new ApiError(status, code, message, fields ?? {}), de)
      expect(text, message).not.toContain(message)
      expect(text.replace(/„[^“]*“|mysql:\/\/\S+/g, ''), message).not.toMatch(english)
      expect(text, message).not.toMatch(/[{}]/)
      const en = errorText(new ApiError(status, code, message, fields ?? {}), en_)
      expect(en, message).not.toMatch(/[{}]|error\./)
    }
    expect(errorText(new ApiError(409, 'conflict', "a backup of target 'shop' is already running (id 12)"), de)).toBe(
      'Für „shop“ läuft bereits ein Backup.',
    )
    expect(errorText(new ApiError(409, 'conflict', "target 'shop' has 2 backup(s); delete them too"), en_)).toBe(
      'Target "shop" still has 2 backups.',
    )
    // A connection failure keeps the database server's own words: they say what went wrong.
    const refused = new ApiError(502, 'connection_failed', "cannot connect to mysql://backup@db.lan:3306/shop: (1045) Access denied for user 'backup'")
    expect(errorText(refused, de)).toBe("keine Verbindung zu mysql://backup@db.lan:3306/shop: (1045) Access denied for user 'backup'")
    // Field names read as the form labels them.
    expect(errorText(new ApiError(422, 'invalid_input', 'invalid target: port', { port: 'must be an integer from 1 to 65535' }), de)).toBe(
      'Einige Angaben sind ungültig. (Port: Muss zwischen 1 und 65535 liegen.)',
    )
  })

  it('an unknown message of a known code keeps the code text, with the server message as detail', () => {
    expect(errorText(new ApiError(409, 'conflict', 'something new'), de)).toBe('Gerade nicht möglich: something new')
  })

  it('words the notes of a cancelled job and a connection report in the chosen language', () => {
    expect(notesText('cancelled by the user', de)).toBe('vom Benutzer abgebrochen')
    expect(notesText('cancelled by the user after 40 statements: the database is partially restored and matches neither the backup nor its state before', de)).toContain('nach 40 Anweisungen')
    expect(notesText('cancelled by the user before the first statement: the database was not changed', de)).toContain('nicht verändert')
    expect(notesText('the stored password cannot be decrypted (the encryption key changed): enter the password again', de)).toContain('Passwort')
    expect(notesText('something unexpected', de)).toBe('something unexpected')
    const report = { ok: false, server_version: '10.11', database_exists: false, can_read: false, message: "database 'shop' does not exist or the user cannot see it", tls_version: null, tls_cipher: null, databases: null }
    expect(reportText(report, de)).toBe('Die Datenbank „shop“ existiert nicht oder der Benutzer sieht sie nicht.')
    expect(reportText({ ...report, ok: true, database_exists: true, can_read: true, message: 'connected; 3 table(s) readable; not encrypted' }, de)).toBe('Verbunden: 10.11 (3 Tabellen lesbar) · nicht verschlüsselt')
    expect(reportText({ ...report, ok: true, database_exists: true, can_read: true, message: 'connected; 3 table(s) readable; not encrypted' }, en_)).toBe('Connected: 10.11 (3 tables readable) · not encrypted')
    const tls = { ...report, ok: true, database_exists: true, can_read: true, message: 'connected; 1 table(s) readable; TLSv1.3', tls_version: 'TLSv1.3', tls_cipher: 'TLS_AES_256_GCM_SHA384' }
    expect(reportText(tls, en_)).toBe('Connected: 10.11 (1 table readable) · encrypted (TLSv1.3, TLS_AES_256_GCM_SHA384)')
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
      'Einige Angaben sind ungültig. (Name: Bereits vergeben.)',
    )
  })
})
