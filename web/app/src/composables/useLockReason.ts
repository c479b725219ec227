// Why a target's "Back up now", Restore or Delete waits: the job that runs for it now.
import { useI18n } from '@/i18n'
import type { JobKind } from '@/services/api'

/** The reason a job of `kind` gives (null: none runs), in the UI's language. */
export function useLockReason(): (kind: JobKind | null | undefined) => string | null {
  const { t } = useI18n()
  return (kind) => (kind ? t(kind === 'restore' ? 'lock.restore' : 'lock.backup') : null)
}
