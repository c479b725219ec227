import { afterEach, describe, expect, it } from 'vitest'
import {
  formatBytes,
  formatDateTime,
  formatDuration,
  formatNumber,
  isValidHHMM,
  localZoneName,
  percent,
  secondsSince,
  utcTimeToLocal,
} from './format'

const savedTZ = process.env.TZ
afterEach(() => {
  process.env.TZ = savedTZ
})

describe('format', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(null)).toBe('–')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(123456789)).toBe('118 MiB')
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.00 TiB')
  })

  it('formats durations from milliseconds to hours', () => {
    expect(formatDuration(null)).toBe('–')
    expect(formatDuration(0.25)).toBe('250 ms')
    expect(formatDuration(3.21)).toBe('3.2 s')
    expect(formatDuration(42)).toBe('42 s')
    expect(formatDuration(125)).toBe('2 min 5 s')
    expect(formatDuration(3 * 3600 + 60)).toBe('3 h 1 min')
  })

  it('writes decimal and thousands separators the way the chosen language does', () => {
    expect(formatBytes(73.1 * 1024 ** 2, 'de')).toBe('73,1 MiB')
    expect(formatBytes(1536, 'de')).toBe('1,50 KiB')
    expect(formatBytes(512, 'de')).toBe('512 B')
    expect(formatDuration(1.7, 'de')).toBe('1,7 s')
    expect(formatDuration(1.7, 'en')).toBe('1.7 s')
    expect(formatDuration(125, 'de')).toBe('2 min 5 s')
    expect(formatNumber(47000, 'de')).toBe('47.000')
    expect(formatNumber(47000, 'en')).toBe('47,000')
    expect(formatNumber(null, 'de')).toBe('–')
  })

  it('formats times in the UI language and passes through what it cannot parse', () => {
    process.env.TZ = 'UTC'
    expect(formatDateTime(null)).toBe('–')
    expect(formatDateTime('2026-11-26T03:00:05Z', 'en')).toContain('26 Nov 2026')
    expect(formatDateTime('2026-11-26T03:00:05Z', 'de')).toContain('26.11.2026')
    expect(formatDateTime('garbage')).toBe('garbage')
  })

  it('shows the UTC schedule time in local time, with summer time', () => {
    process.env.TZ = 'Europe/Berlin'
    expect(utcTimeToLocal('03:00', new Date('2026-01-15T12:00:00Z'))).toBe('04:00')
    expect(utcTimeToLocal('03:00', new Date('2026-07-15T12:00:00Z'))).toBe('05:00')
    expect(utcTimeToLocal('23:30', new Date('2026-01-15T12:00:00Z'))).toBe('00:30')
    process.env.TZ = 'America/New_York'
    expect(utcTimeToLocal('03:00', new Date('2026-01-15T12:00:00Z'))).toBe('22:00')
    expect(utcTimeToLocal('25:00')).toBeNull()
    expect(localZoneName()).toBe('America/New_York')
  })

  it('validates HH:MM and computes percentages and elapsed time', () => {
    expect(isValidHHMM('00:00')).toBe(true)
    expect(isValidHHMM('23:60')).toBe(false)
    expect(percent(3, 12)).toBe(25)
    expect(percent(5, 0)).toBeNull()
    expect(percent(20, 10)).toBe(100)
    expect(secondsSince('2026-11-26T03:00:00Z', new Date('2026-11-26T03:01:00Z'))).toBe(60)
  })
})
