import { afterEach, describe, expect, it } from 'vitest'
import { hourlyLocalTimes, localTimeToUtc, shiftWeekdays, utcTimeToLocalDay } from './schedule'

const savedTZ = process.env.TZ
afterEach(() => {
  process.env.TZ = savedTZ
})

describe('schedule times', () => {
  it('turns local wall-clock time into UTC, with summer time and the day it falls on', () => {
    process.env.TZ = 'Europe/Berlin'
    const winter = new Date(2026, 0, 15)
    const summer = new Date(2026, 6, 15)
    expect(localTimeToUtc('04:30', winter)).toEqual({ time: '03:30', shift: 0 })
    expect(localTimeToUtc('04:30', summer)).toEqual({ time: '02:30', shift: 0 })
    expect(localTimeToUtc('00:30', winter)).toEqual({ time: '23:30', shift: -1 })
    expect(utcTimeToLocalDay('23:30', winter)).toEqual({ time: '00:30', shift: 1 })
    expect(localTimeToUtc('24:00', winter)).toBeNull()
    process.env.TZ = 'America/New_York'
    expect(localTimeToUtc('22:00', winter)).toEqual({ time: '03:00', shift: 1 })
  })

  it('moves weekdays with the day shift, around the week', () => {
    expect(shiftWeekdays(['mon', 'thu'], -1)).toEqual(['wed', 'sun'])
    expect(shiftWeekdays(['sun'], 1)).toEqual(['mon'])
    expect(shiftWeekdays(['fri', 'tue'], 0)).toEqual(['tue', 'fri'])
  })

  it('lists the local times of an hourly schedule', () => {
    process.env.TZ = 'Asia/Kolkata' // +05:30
    expect(hourlyLocalTimes(6, 15, new Date(2026, 0, 15))).toEqual(['05:45', '11:45', '17:45', '23:45'])
    expect(hourlyLocalTimes(0, 15)).toEqual([])
  })
})

describe('schedule text', () => {
  it('says each kind in a few words', async () => {
    const { translate } = await import('@/i18n')
    const { makeTarget } = await import('@/test/helpers')
    const { scheduleText } = await import('./schedule')
    const t = (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate('en', key, params)
    expect(scheduleText(makeTarget({ schedule_time: '03:00' }), t)).toBe('daily 03:00 UTC')
    expect(scheduleText(makeTarget({ schedule_time: null }), t)).toBeNull()
    expect(scheduleText(makeTarget({ schedule_kind: 'hourly', schedule_time: null, schedule_every_hours: 6, schedule_minute: 5 }), t)).toBe(
      'every 6 h from :05 UTC',
    )
    expect(scheduleText(makeTarget({ schedule_kind: 'weekly', schedule_weekdays: ['mon', 'thu'] }), t)).toBe('Mon, Thu 03:00 UTC')
  })
})
