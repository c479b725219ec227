// The one typed client for the REST API in docs/API.md: auth header, error mapping, 401 handling.
// Every page and store talks to the server through `api`; nothing else calls fetch.
// After a 401 nothing is sent until the next login, and stored credentials no answer has confirmed
// yet go out one request at a time: a tab holding an old password costs the server's login
// throttle one failure, not one per poller and page load.

// The shapes are generated from the server's OpenAPI document (`make types`); CI fails when
// api-types.ts is stale, so client and server cannot drift.
export type {
  Backup,
  BackupContents,
  BackupDatabase,
  BackupProgress,
  ConnectionReport,
  Health,
  Job,
  JobKind,
  JobRef,
  Readiness,
  Restore,
  RestoreProgress,
  RestoreRequest,
  Settings,
  Status,
  Target,
  TargetInput,
  Token,
  TokenInput,
  CreatedToken,
  Channel,
  ChannelInput,
  ChannelTestReport,
  Delivery,
  RetentionPreview,
  Trigger,
  UnknownFile,
  FileCheck,
  FileState,
  AdoptRequest,
  VerifyRequest,
} from './api-types'
import type { AdoptRequest } from './api-types'
import type { CreatedToken, Token, TokenInput } from './api-types'
import type { Channel, ChannelInput, ChannelTestReport, Delivery } from './api-types'
import type { RetentionPreview } from './api-types'
import type { FileCheck } from './api-types'
import type { BackupContents, RestoreRequest, VerifyRequest } from './api-types'
import type {
  Backup,
  ConnectionReport,
  Health,
  Job,
  Readiness,
  Restore,
  Settings,
  Target,
  TargetInput,
} from './api-types'

/** Every non-2xx answer (and a failed network call, status 0) becomes one of these. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>
  /** Seconds from a 429's Retry-After header; null when the server did not say. */
  readonly retryAfter: number | null

  constructor(
    status: number,
    code: string,
    message: string,
    fields: Record<string, string> = {},
    retryAfter: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
    this.retryAfter = retryAfter
  }
}

const CREDENTIALS_KEY = 'dumper.credentials'

/**
 * What the client knows about the login: `unconfirmed` until an answer accepts the stored
 * credentials (or finds none needed), `refused` from a 401 until the next login.
 */
type Session = 'unconfirmed' | 'confirmed' | 'refused'
let session: Session = 'unconfirmed'
/** The one request finding out whether unconfirmed credentials still work; others wait for it. */
let probe: Promise<void> | null = null

function forgetStored(): void {
  for (const storage of stores()) {
    try {
      storage.removeItem(CREDENTIALS_KEY)
    } catch {
      /* storage unavailable: nothing stored either */
    }
  }
}

/** Where a login may be kept: this tab (sessionStorage), or this device when asked (localStorage). */
function stores(): Storage[] {
  try {
    return [sessionStorage, localStorage]
  } catch {
    return []
  }
}

/**
 * Basic-Auth credentials, by default in sessionStorage: gone when the tab closes, and a second tab
 * asks again. "Remember on this device" keeps them in localStorage instead, for every tab until
 * logout.
 */
export const credentials = {
  get(): string | null {
    for (const storage of stores()) {
      try {
        const value = storage.getItem(CREDENTIALS_KEY)
        if (value !== null) return value
      } catch {
        /* this storage is unavailable: try the next */
      }
    }
    return null
  },
  /** Stores a pair the server has just accepted (in one place only): requests go out again. */
  set(user: string, password: string, { remember = false }: { remember?: boolean } = {}): void {
    forgetStored()
    ;(remember ? localStorage : sessionStorage).setItem(CREDENTIALS_KEY, encodeBasic(user, password))
    session = 'confirmed'
  },
  /** Logs out: the next request finds out afresh whether the server wants a login. */
  clear(): void {
    forgetStored()
    session = 'unconfirmed'
  },
}

/** base64 of "user:password" in UTF-8 (btoa alone fails on non-Latin-1 characters). */
export function encodeBasic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`)
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

type UnauthorizedHandler = () => void
let onUnauthorized: UnauthorizedHandler | null = null

/** The one place that decides what a 401 does (main.ts routes to the login form). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler
}

interface RequestOptions {
  body?: unknown
  /** Use these credentials instead of the stored ones (the login form checks them). */
  auth?: string | null
  /** A 401 is the caller's business (login form); do not redirect. */
  noRedirect?: boolean
}

function headers(auth: string | null, json: boolean): Record<string, string> {
  const h: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-With': 'XMLHttpRequest',
  }
  if (json) h['Content-Type'] = 'application/json'
  if (auth) h.Authorization = `Basic ${auth}`
  return h
}

/** Retry-After in seconds (the server sends seconds; an HTTP date is not worth parsing here). */
function retryAfterOf(res: Response): number | null {
  const value = res.headers.get('Retry-After')
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) : null
}

async function errorFrom(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`
  let message = res.statusText || `HTTP ${res.status}`
  let fields: Record<string, string> = {}
  try {
    const data: unknown = await res.json()
    const err = (data as { error?: unknown } | null)?.error
    if (err && typeof err === 'object') {
      const e = err as { code?: unknown; message?: unknown; fields?: unknown }
      if (typeof e.code === 'string') code = e.code
      if (typeof e.message === 'string') message = e.message
      if (e.fields && typeof e.fields === 'object') fields = e.fields as Record<string, string>
    }
  } catch {
    /* not JSON (a proxy page, say): keep the status text */
  }
  return new ApiError(res.status, code, message, fields, res.status === 429 ? retryAfterOf(res) : null)
}

async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  // The login form's own attempt is the one request that goes out whatever happened before.
  if (opts.auth !== undefined) return exchange(method, path, opts.auth, opts)
  while (probe) await probe
  if (session === 'refused') {
    if (!opts.noRedirect) onUnauthorized?.()
    throw new ApiError(401, 'unauthorized', 'authentication required')
  }
  const auth = credentials.get()
  const attempt = exchange(method, path, auth, opts)
  if (auth !== null && session === 'unconfirmed') {
    const done = attempt.then(
      () => undefined,
      () => undefined,
    )
    probe = done
    void done.then(() => {
      if (probe === done) probe = null
    })
  }
  return attempt
}

async function exchange(
  method: string,
  path: string,
  auth: string | null,
  opts: RequestOptions,
): Promise<Response> {
  const hasBody = opts.body !== undefined
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers: headers(auth, hasBody),
      body: hasBody ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
    })
  } catch (e) {
    // The server may come back with another password: try the stored one carefully again.
    if (session === 'confirmed') session = 'unconfirmed'
    throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e))
  }
  // An answer for a login that has been replaced meanwhile says nothing about the current one.
  const current = opts.auth === undefined && auth === credentials.get()
  if (res.ok) {
    if (current && session === 'unconfirmed') session = 'confirmed'
    return res
  }
  const error = await errorFrom(res)
  if (res.status === 401 && !opts.noRedirect && current) {
    forgetStored()
    session = 'refused'
    onUnauthorized?.()
  }
  throw error
}

async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, opts)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** Health endpoints answer 503 with a body we want to show, so they do not throw on it. */
async function health(path: string): Promise<Health | Readiness> {
  try {
    return await request<Health | Readiness>('GET', path)
  } catch (e) {
    if (e instanceof ApiError && e.status === 503) return { status: 'not ready', reasons: [e.message] }
    throw e
  }
}

const enc = encodeURIComponent

/** What deleting a target does with its backups (DELETE /api/targets/:id). */
export type TargetBackups = 'refuse' | 'delete' | 'keep'
const DELETE_QUERY: Record<TargetBackups, string> = {
  refuse: '',
  delete: '?with_backups=true',
  keep: '?keep_files=true',
}

export const api = {
  healthz: () => health('/healthz'),
  readyz: () => health('/readyz'),

  listTargets: () => request<Target[]>('GET', '/api/targets'),
  getTarget: (id: number) => request<Target>('GET', `/api/targets/${id}`),
  createTarget: (input: TargetInput) => request<Target>('POST', '/api/targets', { body: input }),
  updateTarget: (id: number, input: TargetInput) =>
    request<Target>('PUT', `/api/targets/${id}`, { body: input }),
  /** `backups`: 'refuse' (409 if it has any), 'delete' rows and files, 'keep' the files in BACKUP_DIR. */
  deleteTarget: (id: number, backups: TargetBackups = 'refuse') =>
    request<void>('DELETE', `/api/targets/${id}${DELETE_QUERY[backups]}`),
  testConnection: (input: TargetInput) =>
    request<ConnectionReport>('POST', '/api/targets/test', { body: input }),
  testStoredConnection: (id: number) =>
    request<ConnectionReport>('POST', `/api/targets/${id}/test`),

  startBackup: (targetId: number) => request<Backup>('POST', `/api/targets/${targetId}/backup`),
  listBackups: (targetId: number) => request<Backup[]>('GET', `/api/targets/${targetId}/backups`),
  getBackup: (id: number) => request<Backup>('GET', `/api/backups/${id}`),
  deleteBackup: (id: number) => request<void>('DELETE', `/api/backups/${id}`),
  /** A string is the confirmation alone (this target, everything, as the file has it). */
  restoreBackup: (id: number, req: string | RestoreRequest) =>
    request<Restore>('POST', `/api/backups/${id}/restore`, { body: typeof req === 'string' ? { confirm: req } : req }),
  /** What a backup file holds (tables with rows, views, ...), read without a database server. */
  backupContents: (id: number) => request<BackupContents>('GET', `/api/backups/${id}/contents`),
  /** Restores into this target and of its backups elsewhere, newest first. */
  listRestores: (targetId: number) => request<Restore[]>('GET', `/api/targets/${targetId}/restores`),
  getRestore: (id: number) => request<Restore>('GET', `/api/restores/${id}`),
  /** Asks a running or queued backup to stop (202: it still runs until the worker stops). */
  cancelBackup: (id: number) => request<Backup>('POST', `/api/backups/${id}/cancel`),
  /** An encrypted backup's key (`identity` or `passphrase`) goes in `req`, for this verification only. */
  verifyBackup: (id: number, req?: VerifyRequest) =>
    request<Backup>('POST', `/api/backups/${id}/verify`, req ? { body: req } : {}),
  uploadBackup,
  /** Makes a file Settings lists as unknown a backup of a target, in place (201: that backup). */
  adoptFile: (req: AdoptRequest) => request<Backup>('POST', '/api/backups/adopt', { body: req }),
  /** Asks a restore to stop between two statements: the database stays partially restored. */
  cancelRestore: (id: number) => request<Restore>('POST', `/api/restores/${id}/cancel`),
  /** A backup's file; a set's as one tar, or with `database` that database's file of the set. */
  downloadUrl: (id: number, database?: string) =>
    `/api/backups/${enc(String(id))}/download${database ? `?database=${enc(database)}` : ''}`,

  listJobs: () => request<Job[]>('GET', '/api/jobs'),

  listTokens: () => request<Token[]>('GET', '/api/tokens'),
  /** The answer holds the token itself, shown this once. */
  createToken: (input: TokenInput) => request<CreatedToken>('POST', '/api/tokens', { body: input }),
  revokeToken: (id: number) => request<void>('DELETE', `/api/tokens/${id}`),

  listChannels: () => request<Channel[]>('GET', '/api/notification-channels'),
  createChannel: (input: ChannelInput) =>
    request<Channel>('POST', '/api/notification-channels', { body: input }),
  /** A secret left out (or '') keeps the stored one. */
  updateChannel: (id: number, input: ChannelInput) =>
    request<Channel>('PUT', `/api/notification-channels/${id}`, { body: input }),
  deleteChannel: (id: number) => request<void>('DELETE', `/api/notification-channels/${id}`),
  /** Sends a test message now; the answer says what the receiver replied. */
  testChannel: (id: number) => request<ChannelTestReport>('POST', `/api/notification-channels/${id}/test`),
  listDeliveries: () => request<Delivery[]>('GET', '/api/notification-deliveries'),
  /** What rotation would keep and delete with these (unsaved) rules; deletes nothing. */
  retentionPreview: (targetId: number, rules: Record<string, number>) =>
    request<RetentionPreview>(
      'GET',
      `/api/targets/${targetId}/retention-preview?${new URLSearchParams(
        Object.entries(rules).map(([k, v]) => [k, String(v)]),
      )}`,
    ),
  getSettings: () => request<Settings>('GET', '/api/settings'),
  /** Re-hashes every backup file in the background (409 while a check runs). */
  startFileCheck: () => request<FileCheck>('POST', '/api/file-check'),
  openapi: () => request<Record<string, unknown>>('GET', '/api/openapi.json'),
  metrics: async (): Promise<string> => (await send('GET', '/metrics')).text(),

  /** Checks credentials without storing them; a 401 here is an answer, not a redirect. */
  checkCredentials: (user: string, password: string) =>
    request<Settings>('GET', '/api/settings', { auth: encodeBasic(user, password), noRedirect: true }),

  /**
   * Downloads a backup. Without stored credentials the browser streams the file itself (big files
   * never sit in memory); with Basic-Auth the header can only be sent by fetch, so it goes via a blob.
   */
  async downloadBackup(id: number, fileName: string, database?: string): Promise<void> {
    const url = api.downloadUrl(id, database)
    if (!credentials.get()) {
      // HEAD first, so a missing file becomes a message here rather than a broken download.
      await send('HEAD', url)
      clickLink(url, fileName)
      return
    }
    const res = await send('GET', url)
    const blob = await res.blob()
    const objectUrl = URL.createObjectURL(blob)
    try {
      clickLink(objectUrl, fileName)
    } finally {
      setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000)
    }
  },
}

export interface UploadOptions {
  /** Bytes sent so far of `total` (the browser's upload progress events). */
  onProgress?: (sent: number, total: number) => void
  /** Aborting it cancels the upload: the server keeps nothing of it. */
  signal?: AbortSignal
}

/**
 * Uploads a dump file as a backup of the target (201: the new backup). The file is the raw body,
 * streamed by the browser, never read into memory here. XMLHttpRequest, not fetch: only it reports
 * upload progress. Errors are ApiErrors like every other answer's; a cancel is code `aborted`.
 */
async function uploadBackup(targetId: number, file: File, opts: UploadOptions = {}): Promise<Backup> {
  while (probe) await probe
  if (session === 'refused') {
    onUnauthorized?.()
    throw new ApiError(401, 'unauthorized', 'authentication required')
  }
  const auth = credentials.get()
  const xhr = new XMLHttpRequest()
  const done = new Promise<Response>((resolve, reject) => {
    xhr.onload = () =>
      resolve(new Response(xhr.responseText || null, { status: xhr.status, statusText: xhr.statusText }))
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the connection broke during the upload'))
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload cancelled'))
  })
  xhr.open('POST', `/api/targets/${targetId}/uploads?filename=${enc(file.name)}`)
  for (const [name, value] of Object.entries(headers(auth, false))) xhr.setRequestHeader(name, value)
  xhr.setRequestHeader('Content-Type', 'application/octet-stream')
  xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size)
  if (opts.signal?.aborted) xhr.abort()
  else opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true })
  xhr.send(file)
  const res = await done
  if (res.ok) return (await res.json()) as Backup
  const error = await errorFrom(res)
  if (res.status === 401 && auth === credentials.get()) {
    forgetStored()
    session = 'refused'
    onUnauthorized?.()
  }
  throw error
}

function clickLink(href: string, fileName: string): void {
  const a = document.createElement('a')
  a.href = href
  a.download = fileName
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
}

export type Api = typeof api
