import { describe, expect, it } from 'vitest'
import { formatAgo } from './ago'

describe('formatAgo', () => {
  it('says how long ago a time was, in the nearest whole unit', () => {
    const now = new Date('2026-11-26T12:00:00Z')
    expect(formatAgo('2026-11-26T11:59:40Z', now)).toBe('just now')
    expect(formatAgo('2026-11-26T11:35:00Z', now)).toBe('25 min ago')
    expect(formatAgo('2026-11-26T09:00:05Z', now)).toBe('3 h ago')
    expect(formatAgo('2026-11-23T12:00:00Z', now)).toBe('3 d ago')
    expect(formatAgo('2026-11-26T09:00:05Z', now, 'de')).toBe('vor 3 h')
    expect(formatAgo(null, now)).toBe('–')
  })
})
