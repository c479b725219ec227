// Schedules as people enter them: local wall-clock time (and local weekdays) in the form, UTC
// on the server. Conversions use the offset of the given day (today by default, DST aware).
import type { MessageKey, Params } from '@/i18n'
import type { Target } from '@/services/api'

export type Weekday = Target['schedule_weekdays'][number]
export const WEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/
const pad = (n: number) => String(n).padStart(2, '0')

/** Local "HH:MM" on `day` as UTC "HH:MM", and the day it falls on relative to the local day. */
export function localTimeToUtc(hhmm: string, day: Date = new Date()): { time: string; shift: number } | null {
  const m = HHMM.exec(hhmm)
  if (!m) return null
  const local = new Date(day.getFullYear(), day.getMonth(), day.getDate(), Number(m[1]), Number(m[2]))
  const localDay = Date.UTC(day.getFullYear(), day.getMonth(), day.getDate())
  const utcDay = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate())
  return { time: `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`, shift: Math.round((utcDay - localDay) / 86_400_000) }
}

/** UTC "HH:MM" on `day` as local "HH:MM", and the local day relative to the UTC day. */
export function utcTimeToLocalDay(hhmm: string, day: Date = new Date()): { time: string; shift: number } | null {
  const m = HHMM.exec(hhmm)
  if (!m) return null
  const utc = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), Number(m[1]), Number(m[2])))
  const utcDay = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate())
  const localDay = Date.UTC(utc.getFullYear(), utc.getMonth(), utc.getDate())
  return { time: `${pad(utc.getHours())}:${pad(utc.getMinutes())}`, shift: Math.round((localDay - utcDay) / 86_400_000) }
}

/** Weekdays moved by `shift` days (-1, 0, +1), in week order. */
export function shiftWeekdays(days: Weekday[], shift: number): Weekday[] {
  const moved = new Set(days.map((d) => WEEK[(WEEK.indexOf(d) + shift + 7) % 7]!))
  return WEEK.filter((d) => moved.has(d))
}

/** The local times an hourly schedule runs at (every `every` hours from 00:`minute` UTC). */
export function hourlyLocalTimes(every: number, minute: number, day: Date = new Date()): string[] {
  if (!Number.isInteger(every) || every < 1 || every > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59) return []
  const times: string[] = []
  for (let h = 0; h < 24; h += every) times.push(utcTimeToLocalDay(`${pad(h)}:${pad(minute)}`, day)!.time)
  return times.sort()
}

/** The schedule in a few words, as the server keeps it (UTC): "every 6 h from :15 UTC". */
export function scheduleText(target: Target, t: (key: MessageKey, params?: Params) => string): string | null {
  const pad2 = (n: number) => String(n).padStart(2, '0')
  if (target.schedule_kind === 'hourly') {
    return t('schedule.hourly', { every: target.schedule_every_hours, minute: pad2(target.schedule_minute) })
  }
  if (!target.schedule_time) return null
  if (target.schedule_kind === 'weekly') {
    const days = target.schedule_weekdays.map((d) => t(`weekday.${d}` as MessageKey)).join(', ')
    return t('schedule.weekly', { days, time: target.schedule_time })
  }
  return t('schedule.daily', { time: target.schedule_time })
}
