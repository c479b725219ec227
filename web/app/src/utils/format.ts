// Formatting of sizes, durations, times and the UTC <-> local schedule time, shared by all pages.

/** The Intl locale for the UI language: German separators for 'de', English ones otherwise. */
function intlLocale(locale: string): string {
  return locale === 'de' ? 'de-DE' : 'en-GB'
}

const numberFormats = new Map<string, Intl.NumberFormat>()

/** `value` with exactly `digits` decimals and the language's separators ("73,1", "47.000"). */
function decimal(value: number, digits: number, locale: string): string {
  const key = `${locale}:${digits}`
  let nf = numberFormats.get(key)
  if (!nf) {
    nf = new Intl.NumberFormat(intlLocale(locale), { minimumFractionDigits: digits, maximumFractionDigits: digits })
    numberFormats.set(key, nf)
  }
  return nf.format(value)
}

/** A count (rows, statements) with the language's thousands separator; '–' for null. */
export function formatNumber(n: number | null | undefined, locale = 'en'): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  return decimal(n, 0, locale)
}

export function formatBytes(bytes: number | null | undefined, locale = 'en'): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${decimal(v, digits, locale)} ${units[i]}`
}

export function formatDuration(seconds: number | null | undefined, locale = 'en'): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–'
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 60) return `${decimal(seconds, seconds < 10 ? 1 : 0, locale)} s`
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`
}

/** "2026-11-26T03:00:05Z" -> local date and time in the UI language; '–' for null. */
export function formatDateTime(iso: string | null | undefined, locale = 'en'): string {
  if (!iso) return '–'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(intlLocale(locale), {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(d)
}

/** Whole seconds since `iso` (for the live duration of a running job). */
export function secondsSince(iso: string, now: Date = new Date()): number {
  return Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000)
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/

export function isValidHHMM(value: string): boolean {
  return HHMM.test(value)
}

/** The daily UTC time "03:00" as local wall-clock "HH:MM" on the given day (DST aware). */
export function utcTimeToLocal(hhmm: string, day: Date = new Date()): string | null {
  const m = HHMM.exec(hhmm)
  if (!m) return null
  const d = new Date(
    Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(m[1]), Number(m[2])),
  )
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}

/** The browser's time zone name, for "03:00 UTC = 04:00 Europe/Berlin". */
export function localZoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local'
  } catch {
    return 'local'
  }
}

export function percent(done: number, total: number): number | null {
  if (!total || total <= 0) return null
  return Math.max(0, Math.min(100, Math.round((done / total) * 100)))
}
