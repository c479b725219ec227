// The target form's operations fields (notifications, dead-man's switch, retention rules,
// schedule kinds): their state, rules and their part of the API body. TargetOpsFields.vue
// shows them; targetForm.ts carries them as `ops`.
import type { Target, TargetInput } from '@/services/api'
import type { FieldIssues, Issue } from './targetForm'

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
  /** dead-man's switch; '' for none */
  ping_url: string
  keep: Record<KeepRule, string>
}

const RULES = Object.keys(KEEP_RULES) as KeepRule[]

export function emptyOps(): TargetOps {
  return { notify: true, ping_url: '', keep: { keep_last: '0', keep_daily: '0', keep_weekly: '0', keep_monthly: '0', keep_yearly: '0' } }
}

export function opsFromTarget(t: Target): TargetOps {
  const keep = emptyOps().keep
  for (const rule of RULES) keep[rule] = String(t[rule])
  return { notify: t.notify, ping_url: t.ping_url ?? '', keep }
}

const URL = /^https?:\/\/[^\s/?#]+\S*$/

function keepIssue(value: string, max: number): Issue | undefined {
  const v = value.trim()
  if (v === '') return { key: 'validation.required' }
  if (!/^\d+$/.test(v)) return { key: 'validation.integer' }
  if (Number(v) > max) return { key: 'validation.range', params: { min: 0, max } }
  return undefined
}

/** The server's rules for the ops fields. */
export function validateOps(o: TargetOps): FieldIssues {
  const issues: FieldIssues = {}
  const ping = o.ping_url.trim()
  if (ping !== '' && (!URL.test(ping) || [...ping].length > 2000)) issues.ping_url = { key: 'validation.url' }
  for (const rule of RULES) {
    const issue = keepIssue(o.keep[rule], KEEP_RULES[rule])
    if (issue) issues[rule] = issue
  }
  return issues
}

/** The keep_* rules as numbers (for the API body and the retention preview). */
export function keepValues(o: TargetOps): Record<KeepRule, number> {
  return Object.fromEntries(RULES.map((r) => [r, Number(o.keep[r].trim())])) as Record<KeepRule, number>
}

/** The ops part of the API body. */
export function opsInput(o: TargetOps): Partial<TargetInput> {
  return { notify: o.notify, ping_url: o.ping_url.trim() || null, ...keepValues(o) }
}
