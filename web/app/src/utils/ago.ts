// "3 h ago": how long ago a time was, for the last good backup of a target.
import { translate } from '@/i18n'
import { secondsSince } from './format'

/** "3 h ago" / "vor 3 h": how long ago `iso` was, in the nearest whole unit; '–' for null. */
export function formatAgo(iso: string | null | undefined, now: Date = new Date(), locale = 'en'): string {
  if (!iso) return '–'
  const lang = locale === 'de' ? 'de' : 'en'
  const seconds = secondsSince(iso, now)
  if (seconds < 60) return translate(lang, 'time.justNow')
  const minutes = Math.round(seconds / 60)
  const hours = Math.round(minutes / 60)
  const value = minutes < 60 ? `${minutes} min` : hours < 24 ? `${hours} h` : `${Math.round(hours / 24)} d`
  return translate(lang, 'time.ago', { value })
}
