// The target form's operations fields (notifications, dead-man's switch, retention rules,
// schedule kinds): their state, rules and their part of the API body. TargetOpsFields.vue
// shows them; targetForm.ts carries them as `ops`.
import type { Target, TargetInput } from '@/services/api'
import type { FieldIssues, Issue } from './targetForm'
import type { Weekday } from '@/utils/schedule'

/** The keep_* rules with their largest values (dumper/targets.py TARGET_FIELDS). */
export const KEEP_RULES = {
  keep_last: 10000,
  keep_daily: 3650,
  keep_weekly: 520,
  keep_monthly: 1200,
  keep_yearly: 100,
} as const
export type KeepRule = keyof typeof KEEP_RULES

export interface TargetOps {
  notify: boolean
  /** a test restore right after each successful backup */
  verify_after_backup: boolean
  /** fail a backup whose user may not see every object (default: a warning) */
  strict: boolean
  /** connections that read table data at once (1-4) */
  parallel_connections: number
  /** dead-man's switch; '' for none */
  ping_url: string
  keep: Record<KeepRule, string>
  schedule_kind: Target['schedule_kind']
  /** hourly: every N hours (1-23) from 00:minute UTC */
  every_hours: string
  minute: string
  /** weekly: the chosen days in local time (the server keeps UTC days) */
  weekdays: Weekday[]
}

const RULES = Object.keys(KEEP_RULES) as KeepRule[]

export function emptyOps(): TargetOps {
  return {
    notify: true,
    verify_after_backup: false,
    strict: false,
    parallel_connections: 1,
    ping_url: '',
    keep: { keep_last: '0', keep_daily: '0', keep_weekly: '0', keep_monthly: '0', keep_yearly: '0' },
    schedule_kind: 'daily',
    every_hours: '6',
    minute: '0',
    weekdays: ['mon'],
  }
}

export function opsFromTarget(t: Target): TargetOps {
  const keep = emptyOps().keep
  for (const rule of RULES) keep[rule] = String(t[rule])
  return {
    notify: t.notify,
    verify_after_backup: t.verify_after_backup,
    strict: t.strict,
    parallel_connections: t.parallel_connections,
    ping_url: t.ping_url ?? '',
    keep,
    schedule_kind: t.schedule_kind,
    every_hours: String(t.schedule_every_hours),
    minute: String(t.schedule_minute),
    weekdays: [...t.schedule_weekdays], // UTC days: targetForm.ts moves them to local time
  }
}

const URL = /^https?:\/\/[^\s/?#]+\S*$/

function rangeIssue(value: string, min: number, max: number): Issue | undefined {
  const v = value.trim()
  if (v === '') return { key: 'validation.required' }
  if (!/^\d+$/.test(v)) return { key: 'validation.integer' }
  if (Number(v) < min || Number(v) > max) return { key: 'validation.range', params: { min, max } }
  return undefined
}

/** The server's rules for the ops fields. */
export function validateOps(o: TargetOps): FieldIssues {
  const issues: FieldIssues = {}
  const ping = o.ping_url.trim()
  if (ping !== '' && (!URL.test(ping) || [...ping].length > 2000)) issues.ping_url = { key: 'validation.url' }
  for (const rule of RULES) {
    const issue = rangeIssue(o.keep[rule], 0, KEEP_RULES[rule])
    if (issue) issues[rule] = issue
  }
  return issues
}

/** What the kind of schedule needs (when there is a schedule at all). */
export function validateSchedule(o: TargetOps): FieldIssues {
  const issues: FieldIssues = {}
  if (o.schedule_kind === 'hourly') {
    const every = rangeIssue(o.every_hours, 1, 23)
    const minute = rangeIssue(o.minute, 0, 59)
    if (every) issues.schedule_every_hours = every
    if (minute) issues.schedule_minute = minute
  }
  if (o.schedule_kind === 'weekly' && o.weekdays.length === 0) issues.schedule_weekdays = { key: 'validation.weekdays' }
  return issues
}

/** The keep_* rules as numbers (for the API body and the retention preview). */
export function keepValues(o: TargetOps): Record<KeepRule, number> {
  return Object.fromEntries(RULES.map((r) => [r, Number(o.keep[r].trim())])) as Record<KeepRule, number>
}

/** The ops part of the API body. */
export function opsInput(o: TargetOps): Partial<TargetInput> {
  return {
    notify: o.notify,
    verify_after_backup: o.verify_after_backup,
    strict: o.strict,
    parallel_connections: o.parallel_connections,
    ping_url: o.ping_url.trim() || null,
    ...keepValues(o),
  }
}
