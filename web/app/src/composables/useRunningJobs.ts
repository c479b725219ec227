// The jobs store, polled for as long as the calling page is open.
import { onScopeDispose } from 'vue'
import { useJobsStore } from '@/stores'

export function useRunningJobs(): ReturnType<typeof useJobsStore> {
  const jobs = useJobsStore()
  onScopeDispose(jobs.subscribe())
  return jobs
}
