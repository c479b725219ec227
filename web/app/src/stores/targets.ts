// Targets: the list shown on the dashboard and the targets page, and every change to a target.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useBusySet } from './busy'
import { api, type Backup, type Target, type TargetBackups, type TargetInput } from '@/services/api'

export const useTargetsStore = defineStore('targets', () => {
  const targets = ref<Target[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  /** Target ids with a request in flight (their buttons are disabled). */
  const { busy, withBusy } = useBusySet()

  const sorted = computed(() => [...targets.value].sort((a, b) => a.name.localeCompare(b.name)))

  function byId(id: number): Target | undefined {
    return targets.value.find((t) => t.id === id)
  }

  function upsert(target: Target): void {
    const i = targets.value.findIndex((t) => t.id === target.id)
    if (i >= 0) targets.value.splice(i, 1, target)
    else targets.value.push(target)
  }

  async function load(): Promise<void> {
    loading.value = true
    try {
      targets.value = await api.listTargets()
      error.value = null
      loaded.value = true
    } catch (e) {
      error.value = e
      throw e
    } finally {
      loading.value = false
    }
  }

  async function fetchOne(id: number): Promise<Target> {
    const target = await api.getTarget(id)
    upsert(target)
    return target
  }

  async function create(input: TargetInput): Promise<Target> {
    const target = await api.createTarget(input)
    upsert(target)
    return target
  }

  async function update(id: number, input: TargetInput): Promise<Target> {
    const target = await withBusy(id, () => api.updateTarget(id, input))
    upsert(target)
    return target
  }

  async function remove(id: number, backups: TargetBackups): Promise<void> {
    await withBusy(id, () => api.deleteTarget(id, backups))
    targets.value = targets.value.filter((t) => t.id !== id)
  }

  /** Starts a backup and marks the target as running at once (the next poll confirms it). */
  async function backupNow(id: number): Promise<Backup> {
    const backup = await withBusy(id, () => api.startBackup(id))
    const target = byId(id)
    if (target) upsert({ ...target, running_job: { kind: 'backup', id: backup.id } })
    return backup
  }

  return { targets, sorted, loading, loaded, error, busy, byId, load, fetchOne, create, update, remove, backupNow }
})
