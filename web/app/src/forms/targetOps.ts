// The target form's operations fields (notifications, dead-man's switch, retention rules,
// schedule kinds): their state, rules and their part of the API body. TargetOpsFields.vue
// shows them; targetForm.ts carries them as `ops`.
import type { Target, TargetInput } from '@/services/api'
import type { FieldIssues } from './targetForm'

export interface TargetOps {
  notify: boolean
  /** dead-man's switch; '' for none */
  ping_url: string
}

export function emptyOps(): TargetOps {
  return { notify: true, ping_url: '' }
}

export function opsFromTarget(t: Target): TargetOps {
  return { notify: t.notify, ping_url: t.ping_url ?? '' }
}

const URL = /^https?:\/\/[^\s/?#]+\S*$/

/** The server's rules for the ops fields. */
export function validateOps(o: TargetOps): FieldIssues {
  const issues: FieldIssues = {}
  const ping = o.ping_url.trim()
  if (ping !== '' && (!URL.test(ping) || [...ping].length > 2000)) issues.ping_url = { key: 'validation.url' }
  return issues
}

/** The ops part of the API body. */
export function opsInput(o: TargetOps): Partial<TargetInput> {
  return { notify: o.notify, ping_url: o.ping_url.trim() || null }
}
