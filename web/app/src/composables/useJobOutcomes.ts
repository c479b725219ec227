// Toasts the outcome of every job that ends while a page with the jobs poll is open, so a
// backup started with one click reports success or its error without opening its page.
import { watch } from 'vue'
import { useI18n } from '@/i18n'
import { api } from '@/services/api'
import { useJobsStore, useToastStore } from '@/stores'

export function useJobOutcomes(): void {
  const jobs = useJobsStore()
  const toasts = useToastStore()
  const { t } = useI18n()

  watch(
    () => jobs.finished,
    async () => {
      for (const job of jobs.gone) {
        const name = job.target_name
        try {
          if (job.kind === 'backup') {
            const b = await api.getBackup(job.id)
            if (b.status === 'success') toasts.success(t('backups.backupDone', { name }))
            else if (b.status === 'failed') toasts.push('error', t('backups.backupFailed', { name, notes: b.notes || '?' }))
          } else {
            const r = await api.getRestore(job.id)
            if (r.status === 'success') toasts.success(t('backups.restoreDone', { name, statements: r.statements ?? 0 }))
            else if (r.status === 'failed') toasts.push('error', t('backups.restoreFailed', { name, notes: r.notes || '?' }))
          }
        } catch {
          /* the job's row is gone (deleted): nothing to report */
        }
      }
    },
  )
}
