// Running jobs: the one poller of job state (while a page subscribes), and the one place that
// reports how a job ended. `finished` ticks when jobs disappear, `gone` holds them, so pages can
// reload what they changed. How a restore ended stays in `restoreOutcomes` for its target's page;
// a toast says it only while that page is not open.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { usePolling } from '@/composables/usePolling'
import { useI18n } from '@/i18n'
import { notesText } from '@/i18n/errors'
import { api, type Backup, type Job, type JobKind, type Restore } from '@/services/api'
import { formatNumber } from '@/utils/format'
import { useBackupsStore } from './backups'
import { useToastStore } from './toasts'

export const POLL_MS = 1500

type JobRef = { kind: JobKind; id: number }
const key = (j: JobRef) => `${j.kind}:${j.id}`

/** A job as the list shows it; a job a page has just started has no progress report yet. */
export type LiveJob = Omit<Job, 'progress'> & { progress: Job['progress'] | null }

/** How a restore ended, with the backup it restored (null when that is gone). */
export interface RestoreOutcome {
  restore: Restore
  backup: Backup | null
}

/** A job as the list shows it, from the backup or restore a page has just started or loaded. */
export function jobOf(kind: JobKind, run: Backup | Restore, targetName: string): LiveJob {
  return { kind, id: run.id, target_id: run.target_id, target_name: targetName, started_at: run.started_at, progress: run.progress }
}

export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<LiveJob[]>([])
  const finished = ref(0)
  /** The jobs that were running at the previous poll and are gone now. */
  const gone = ref<LiveJob[]>([])
  const error = ref<unknown>(null)
  /** Jobs ("kind:id") whose cancel is being sent or was accepted: they only have to stop now. */
  const cancelling = ref<Set<string>>(new Set())
  /** The last restore that ended per target id, for the target's backups page. */
  const restoreOutcomes = ref<Record<number, RestoreOutcome>>({})
  /** Target ids whose backups page is open (it shows a restore's outcome itself); count per id. */
  const pagesOpen = new Map<number, number>()
  const toasts = useToastStore()
  const backups = useBackupsStore()
  const { t, locale } = useI18n()

  /** Polls sent so far, and for each tracked job the count when it was tracked. */
  let sent = 0
  const trackedAt = new Map<string, number>()

  async function fetchJobs(): Promise<void> {
    const mark = ++sent
    let listed: LiveJob[]
    try {
      listed = await api.listJobs()
    } catch (e) {
      error.value = e
      return
    }
    error.value = null
    const there = new Set(listed.map(key))
    // A job tracked after this request went out may be missing only because the answer is older.
    const late = jobs.value.filter((j) => !there.has(key(j)) && (trackedAt.get(key(j)) ?? -1) >= mark)
    const next = [...listed, ...late]
    const kept = new Set(next.map(key))
    const ended = jobs.value.filter((j) => !kept.has(key(j)))
    for (const [k, at] of trackedAt) if (at < mark) trackedAt.delete(k)
    jobs.value = next
    if (ended.length > 0) {
      gone.value = ended
      finished.value++
      forget(ended.map(key))
      await Promise.all(ended.map(reportOutcome))
    }
  }

  const poller = usePolling(fetchJobs, POLL_MS, { immediate: true, autoStart: false })

  /** One toast per ended job: success, failure with the server's notes, or a cancel (news, not an error). */
  async function reportOutcome(job: LiveJob): Promise<void> {
    const name = job.target_name
    try {
      if (job.kind === 'backup') {
        const b = await api.getBackup(job.id)
        if (b.status === 'success') toasts.success(t('backups.backupDone', { name }))
        else if (b.status === 'failed') toasts.push('error', t('backups.backupFailed', { name, notes: notesText(b.notes, t) || '?' }))
        else if (b.status === 'cancelled') toasts.info(t('backups.backupCancelled', { name }))
      } else if (job.kind === 'verify') {
        // a verification's id is its backup's: how it ended is on the backup
        const v = (await api.getBackup(job.id)).verification
        if (v?.status === 'passed') toasts.success(t('verification.done', { name }))
        else if (v?.status === 'failed') toasts.push('error', t('verification.doneFailed', { name, notes: notesText(v.notes, t) || '?' }))
      } else {
        const r = await api.getRestore(job.id)
        const backup = await restoredBackup(r)
        restoreOutcomes.value = { ...restoreOutcomes.value, [r.target_id]: { restore: r, backup } }
        if (pagesOpen.has(r.target_id)) return // the page shows it, and keeps it
        if (r.status === 'success') toasts.success(restoreDoneText(name, r, backup))
        else if (r.status === 'failed') toasts.push('error', t('backups.restoreFailed', { name, notes: notesText(r.notes, t) || '?' }))
        // a cancelled restore may have left the database half-restored: the notes say so
        else if (r.status === 'cancelled') toasts.info(t('backups.restoreCancelled', { name, notes: notesText(r.notes, t) }))
      }
    } catch {
      /* the job's row is gone (deleted): nothing to report */
    }
  }

  /** The backup a restore read, from the page's list if it has it, else from the server. */
  async function restoredBackup(r: Restore): Promise<Backup | null> {
    const listed = backups.list(r.target_id).find((b) => b.id === r.backup_id)
    return listed ?? (await api.getBackup(r.backup_id).catch(() => null))
  }

  /** "finished: 16 tables, 47,000 rows" in the backup's terms; the statements when it has no counts. */
  function restoreDoneText(name: string, r: Restore, backup: Backup | null): string {
    if (backup?.tables == null || backup.rows == null) {
      return t('backups.restoreDoneStatements', { name, statements: formatNumber(r.statements ?? 0, locale.value) })
    }
    return t('backups.restoreDone', { name, tables: formatNumber(backup.tables, locale.value), rows: formatNumber(backup.rows, locale.value) })
  }

  /** A target's backups page is open: restore outcomes go there, not into toasts, until it closes. */
  function showOutcomesOf(targetId: number): () => void {
    pagesOpen.set(targetId, (pagesOpen.get(targetId) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (pagesOpen.get(targetId) ?? 1) - 1
      if (left > 0) pagesOpen.set(targetId, left)
      else pagesOpen.delete(targetId)
    }
  }

  function dismissOutcome(targetId: number): void {
    const { [targetId]: _gone, ...rest } = restoreOutcomes.value
    restoreOutcomes.value = rest
  }

  /** Shows a job a page has just started (or found running) before the next poll lists it. */
  function track(job: LiveJob): void {
    if (jobs.value.some((j) => key(j) === key(job))) return
    trackedAt.set(key(job), sent)
    jobs.value = [...jobs.value, job]
  }

  function find(kind: JobKind, id: number): LiveJob | undefined {
    return jobs.value.find((j) => j.kind === kind && j.id === id)
  }

  function forget(keys: string[]): void {
    const next = new Set(cancelling.value)
    for (const k of keys) next.delete(k)
    cancelling.value = next
  }

  function isCancelling(kind: JobKind, id: number): boolean {
    return cancelling.value.has(key({ kind, id }))
  }

  /** Asks the server to stop a job; it keeps running (and is marked cancelling) until it ends. */
  async function cancel(kind: JobKind, id: number): Promise<Backup | Restore> {
    cancelling.value = new Set(cancelling.value).add(key({ kind, id }))
    try {
      // a verification's id is its backup's: cancelling the backup's job stops it
      return kind === 'restore' ? await api.cancelRestore(id) : await api.cancelBackup(id)
    } catch (e) {
      forget([key({ kind, id })])
      throw e
    }
  }

  function forTarget(targetId: number): LiveJob[] {
    return jobs.value.filter((j) => j.target_id === targetId)
  }

  let subscribers = 0

  /** Starts polling (shared by every page that asks); returns the function that stops it. */
  function subscribe(): () => void {
    subscribers++
    if (subscribers === 1) poller.start()
    let done = false
    return () => {
      if (done) return
      done = true
      subscribers--
      if (subscribers === 0) poller.stop()
    }
  }

  return {
    jobs,
    finished,
    gone,
    error,
    cancelling,
    restoreOutcomes,
    load: poller.runNow,
    track,
    find,
    forTarget,
    isCancelling,
    cancel,
    subscribe,
    showOutcomesOf,
    dismissOutcome,
  }
})
