// The target form's operations fields (notifications, dead-man's switch, retention rules,
// schedule kinds): their state, rules and their part of the API body. TargetOpsFields.vue
// shows them; targetForm.ts carries them as `ops`.
import type { Target, TargetInput } from '@/services/api'

export interface TargetOps {
  notify: boolean
}

export function emptyOps(): TargetOps {
  return { notify: true }
}

export function opsFromTarget(t: Target): TargetOps {
  return { notify: t.notify }
}

/** The ops part of the API body. */
export function opsInput(o: TargetOps): Partial<TargetInput> {
  return { notify: o.notify }
}
