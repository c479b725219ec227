// "Back up now" from any page: starts the backup, shows its job at once (the jobs store reports
// how it ends), and toasts that it started or why the server refused.
import { useI18n } from '@/i18n'
import type { Target } from '@/services/api'
import { useJobsStore, useTargetsStore, useToastStore } from '@/stores'
import { jobOf } from '@/stores/jobs'

export function useBackupNow(): (target: Target) => Promise<boolean> {
  const targets = useTargetsStore()
  const jobs = useJobsStore()
  const toasts = useToastStore()
  const { t } = useI18n()

  /** True when the server accepted the backup. */
  return async (target: Target): Promise<boolean> => {
    try {
      const backup = await targets.backupNow(target.id)
      jobs.track(jobOf('backup', backup, target.name))
      toasts.success(t('targets.backupStarted', { name: target.name }))
    } catch (e) {
      toasts.error(e, target.name)
      return false
    }
    await jobs.load()
    return true
  }
}
