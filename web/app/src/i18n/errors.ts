// What the server (and the client itself) says went wrong, in the UI's language. The server words
// its errors in English; this is the one place that turns them into the UI's texts:
// - each error code has a text (CODE_TEXT);
// - the messages docs/API.md documents have their own texts per code (MESSAGE_TEXT), their names
//   and numbers taken from the message;
// - field messages and field names read as the form says them (FIELD_TEXT, FIELD_LABEL);
// - a job's notes and a connection report, which carry the same kinds of server text.
// A code not known here (a proxy page) shows as sent; a known code with an unknown message takes
// the message as {detail} where its text has one.
import { ApiError, type ConnectionReport } from '@/services/api'
import type { MessageKey, Params } from '.'

export type Translate = (key: MessageKey, params?: Params) => string

/** A known message: its pattern (named groups become the text's parameters) and its text. */
type Known = readonly [RegExp, MessageKey]

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
  storage_full: 'error.storage_full',
  key_required: 'error.key_required',
  payload_too_large: 'error.payload_too_large',
  length_required: 'error.length_required',
  unauthorized: 'error.unauthorized',
  forbidden: 'error.forbidden',
  too_many_requests: 'error.too_many_requests',
  method_not_allowed: 'error.method_not_allowed',
  range_not_satisfiable: 'error.range_not_satisfiable',
  internal: 'error.internal',
  network: 'error.network',
}

/** A name as Python's repr() quotes it: 'shop', or "o'hara". */
const NAME = String.raw`(?:'(?<name>[^']*)'|"(?<dname>.*)")`

/** How a connection failure reads (dumper/backup/dsn.py): MySQL's own reason stays as it is. */
const CONNECTION: readonly Known[] = [
  [
    /^cannot connect to (?<url>\S+): the server accepted the connection but did not answer the MySQL handshake within (?<seconds>[\d.]+) s/,
    'error.connection.handshake',
  ],
  [/^cannot connect to (?<url>\S+): invalid host name$/, 'error.connection.badHost'],
  [/^cannot connect to (?<url>\S+): (?<reason>[\s\S]*)$/, 'error.connection.failed'],
]

/** The messages docs/API.md documents, per code (dumper/app.py, jobs.py, store.py, http/). */
const MESSAGE_TEXT: Record<string, readonly Known[]> = {
  conflict: [
    [new RegExp(String.raw`^target ${NAME} has (?<count>\d+) backup\(s\)`), 'error.conflict.hasBackups'],
    [new RegExp(String.raw`^a backup of target ${NAME} is already running`), 'error.conflict.backupRunning'],
    [new RegExp(String.raw`^a restore of target ${NAME} is already running`), 'error.conflict.restoreRunning'],
    [
      new RegExp(String.raw`^database '(?<db>[^']*)' on (?<host>\S+) is busy: \w+ \d+ of target ${NAME} is running on it$`),
      'error.conflict.databaseBusy',
    ],
    [/^the service is shutting down$/, 'error.conflict.shuttingDown'],
    [/^backup \d+ is still running$/, 'error.conflict.stillRunning'],
    [/^backup \d+ is being restored$/, 'error.conflict.beingRestored'],
    [/^(?:backup|restore) \d+ already ended \(\w+\): nothing to cancel$/, 'error.conflict.alreadyEnded'],
    [/^(?:backup|restore) \d+ is not run by this service/, 'error.conflict.notHere'],
    [new RegExp(String.raw`^a target named ${NAME} already exists$`), 'error.conflict.nameTaken'],
  ],
  forbidden: [[/^cross-site request refused/, 'error.forbidden.crossSite']],
  payload_too_large: [[/^the file is larger than UPLOAD_MAX_BYTES \((?<limit>\d+) bytes\)/, 'upload.tooLarge']],
  bad_request: [
    [/ALLOWED_HOSTS$/, 'error.bad_request.host'],
    [/^the path holds a control character$/, 'error.bad_request.path'],
    [/^the request body ended early/, 'error.bad_request.slow'],
    [/^the upload ended early/, 'error.bad_request.slow'],
    [
      /^(?:chunked request bodies|conflicting Content-Length|invalid Content-Length|a JSON body is required|Content-Type must be|malformed JSON|JSON nested deeper|the body must be a JSON object)/,
      'error.bad_request.body',
    ],
  ],
  connection_failed: CONNECTION,
  key_required: [
    [/^this backup is encrypted/, 'encryption.error.required'],
    [/^the identity or passphrase given does not open/, 'encryption.error.noMatch'],
    [/^the encrypted file is whole as far as can be seen without its key \((?<chunks>\d+) chunks checked\)/, 'encryption.error.checkedStructure'],
    [/^the encrypted file is whole as far as can be seen without its key \((?<chunks>\d+) chunks/, 'encryption.error.checkedWithoutKey'],
  ],
}

/** The field messages of dumper/inputs.py and targets.py (and the store's "already taken"). */
const FIELD_TEXT: readonly Known[] = [
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
  [/^must be the exact target name$/, 'validation.confirmName'],
  [/^status is \w+$/, 'validation.notSuccessful'],
  [/^must be an object$/, 'validation.object'],
  [/^invalid$/, 'validation.invalid'],
  [/^must be 1 to 64 letters, digits, _, \$ or -$/, 'validation.databaseName'],
  [/^must be a database name, or \* for every database$/, 'set.field.dbname'],
  [/^is only for dbname \* \(every database\)$/, 'set.field.exclude'],
  [/^one of (?<names>.+)$/, 'set.field.oneOf'],
  [/^a backup set$/, 'set.field.isSet'],
  [/^required$/, 'validation.required'],
  [/^no match$/, 'encryption.field.noMatch'],
  [/^must be an age public key/, 'encryption.field.recipient'],
  [/^cannot be on with a recipient/, 'encryption.field.noVerifyAfter'],
  [/^is required for passphrase encryption$/, 'encryption.field.passphraseRequired'],
  [/^must be at least (?<min>\d+) characters$/, 'encryption.field.passphraseShort'],
  [/^give identity or passphrase, not both$/, 'encryption.field.both'],
]

/** Field names as the form labels them; others (none the API documents) show as sent. */
const FIELD_LABEL: Record<string, MessageKey> = {
  name: 'edit.name',
  host: 'edit.host',
  port: 'edit.port',
  dbname: 'edit.dbname',
  exclude: 'set.exclude',
  user: 'edit.user',
  password: 'edit.password',
  comment: 'edit.comment',
  schedule_time: 'edit.scheduleTime',
  retention_days: 'edit.retention',
  auto_compress: 'edit.autoCompress',
  confirm: 'field.confirm',
  backup: 'field.backup',
  body: 'field.body',
  with_backups: 'field.deleteOption',
  keep_files: 'field.deleteOption',
  database: 'field.database',
  tables: 'field.tables',
  target_id: 'field.targetId',
  source_database: 'field.sourceDatabase',
  accept_unmarked: 'field.acceptUnmarked',
  identity: 'encryption.key',
  passphrase: 'encryption.key',
  encryption: 'encryption.legend',
  age_recipient: 'encryption.recipient',
  age_passphrase: 'encryption.passphrase',
  verify_after_backup: 'edit.verifyAfter',
}

/** A job's notes (dumper/jobs.py, targets.py) that say the same in every failed or cancelled run. */
const NOTES_TEXT: readonly Known[] = [
  [/^cancelled by the user$/, 'notes.cancelled'],
  [/^cancelled by the user before (?:the restore started|the first statement): the database was not changed$/, 'notes.cancelledUnchanged'],
  [/^cancelled by the user after (?<statements>\d+) statements: the database is partially restored/, 'notes.cancelledPartial'],
  [/^the stored password cannot be decrypted/, 'notes.passwordUnreadable'],
  ...CONNECTION,
]

/** The first known message that matches, in the UI's language; null when none does. */
function known(table: readonly Known[] | undefined, message: string, t: Translate): string | null {
  for (const [pattern, key] of table ?? []) {
    const match = pattern.exec(message)
    if (!match) continue
    const { dname, ...groups } = match.groups ?? {}
    const params: Params = {}
    for (const [k, v] of Object.entries(groups)) if (v !== undefined) params[k] = v
    if (dname !== undefined) params.name = dname
    return t(key, params)
  }
  return null
}

/** A server field message in the UI's language, or as sent when it is not one we know. */
export function fieldErrorText(message: string, t: Translate): string {
  return known(FIELD_TEXT, message, t) ?? message
}

/** A field's name as the form labels it. */
export function fieldLabel(field: string, t: Translate): string {
  const key = FIELD_LABEL[field]
  return key ? t(key) : field
}

/** A readable sentence for any thrown value; field errors are appended (not for the restore guard). */
export function errorText(e: unknown, t: Translate): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e)
  const key = CODE_TEXT[e.code]
  const text = key ? (known(MESSAGE_TEXT[e.code], e.message, t) ?? t(key, { detail: e.message })) : e.message
  const fields = e.code === 'confirmation_required' ? [] : Object.entries(e.fields)
  if (fields.length === 0) return text
  return `${text} (${fields.map(([k, v]) => `${fieldLabel(k, t)}: ${fieldErrorText(v, t)}`).join('; ')})`
}

/** A job's notes (why it failed, how a cancel left the database) in the UI's language where known. */
export function notesText(notes: string, t: Translate): string {
  return known(NOTES_TEXT, notes, t) ?? notes
}

/** What a connection test found (dumper/backup/probe.py), from its fields where they say it. */
export function reportText(report: ConnectionReport, t: Translate): string {
  const { message } = report
  if (report.databases) {
    // a whole server (`*`): what a backup would take now
    if (report.databases.length === 0) return t('set.testNone')
    const transport = report.tls_version
      ? t('report.tls', { version: report.tls_version, cipher: report.tls_cipher ?? '' })
      : t('report.plain')
    const names = report.databases.join(', ')
    return `${t('edit.testOk', { version: report.server_version ?? '' })} · ${t('set.testDatabases', { names })} · ${transport}`
  }
  if (report.ok) {
    const version = report.server_version ?? ''
    const count = /(\d+) table\(s\) readable/.exec(message)?.[1]
    if (count === undefined) return t('edit.testOk', { version })
    const tables = count === '1' ? t('report.tableOne') : t('report.tableMany', { count })
    const transport = report.tls_version
      ? t('report.tls', { version: report.tls_version, cipher: report.tls_cipher ?? '' })
      : t('report.plain')
    return `${t('report.connected', { version, tables })} · ${transport}`
  }
  if (report.database_exists === false) {
    const db = /^database '(?<db>[^']*)'/.exec(message)?.groups?.db ?? ''
    return t('report.noDatabase', { db })
  }
  const reason = /^(cannot read the database|query failed): ([\s\S]*)$/.exec(message)
  if (reason) return t(reason[1] === 'query failed' ? 'report.queryFailed' : 'report.cannotRead', { reason: reason[2]! })
  return notesText(message, t)
}
