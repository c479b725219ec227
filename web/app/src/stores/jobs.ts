// Running jobs, polled while a page shows them; `finished` ticks when a job disappears so
// pages can reload what it changed.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Backup, type Job, type JobKind, type Restore } from '@/services/api'

export const POLL_MS = 1500

export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<Job[]>([])
  const finished = ref(0)
  /** The jobs that were running at the previous poll and are gone now. */
  const gone = ref<Job[]>([])
  const error = ref<unknown>(null)
  /** Jobs ("kind:id") whose cancel is being sent or was accepted: they only have to stop now. */
  const cancelling = ref<Set<string>>(new Set())
  let subscribers = 0
  let timer: ReturnType<typeof setTimeout> | null = null

  async function load(): Promise<void> {
    try {
      const next = await api.listJobs()
      const stillThere = new Set(next.map((j) => `${j.kind}:${j.id}`))
      const ended = jobs.value.filter((j) => !stillThere.has(`${j.kind}:${j.id}`))
      jobs.value = next
      error.value = null
      if (ended.length > 0) {
        gone.value = ended
        finished.value++
        forget(ended.map(key))
      }
    } catch (e) {
      error.value = e
    }
  }

  const key = (j: { kind: JobKind; id: number }) => `${j.kind}:${j.id}`

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
      return kind === 'backup' ? await api.cancelBackup(id) : await api.cancelRestore(id)
    } catch (e) {
      forget([key({ kind, id })])
      throw e
    }
  }

  function forTarget(targetId: number): Job[] {
    return jobs.value.filter((j) => j.target_id === targetId)
  }

  function schedule(): void {
    timer = setTimeout(async () => {
      await load()
      if (subscribers > 0) schedule()
    }, POLL_MS)
  }

  /** Starts polling (shared by every page that asks); returns the function that stops it. */
  function subscribe(): () => void {
    subscribers++
    if (subscribers === 1) {
      void load()
      schedule()
    }
    let done = false
    return () => {
      if (done) return
      done = true
      subscribers--
      if (subscribers === 0 && timer) {
        clearTimeout(timer)
        timer = null
      }
    }
  }

  return { jobs, finished, gone, error, cancelling, load, forTarget, isCancelling, cancel, subscribe }
})
