// Backups per target (newest first), their deletion, and the restores started from them.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useBusySet } from './busy'
import { api, type Backup, type BackupDatabase, type Restore, type RestoreRequest } from '@/services/api'

export const useBackupsStore = defineStore('backups', () => {
  const byTarget = ref<Record<number, Backup[]>>({})
  const loading = ref(false)
  const { busy, withBusy } = useBusySet()

  function list(targetId: number): Backup[] {
    return byTarget.value[targetId] ?? []
  }

  async function load(targetId: number): Promise<Backup[]> {
    loading.value = true
    try {
      const backups = await api.listBackups(targetId)
      byTarget.value = { ...byTarget.value, [targetId]: backups }
      return backups
    } finally {
      loading.value = false
    }
  }

  async function remove(backup: Backup): Promise<void> {
    await withBusy(backup.id, () => api.deleteBackup(backup.id))
    const rest = list(backup.target_id).filter((b) => b.id !== backup.id)
    byTarget.value = { ...byTarget.value, [backup.target_id]: rest }
  }

  async function restore(backup: Backup, req: string | RestoreRequest): Promise<Restore> {
    return withBusy(backup.id, () => api.restoreBackup(backup.id, req))
  }

  /** The backup's file; a set (several databases) as one tar, or `database`'s file of it. */
  async function download(backup: Backup, database?: BackupDatabase): Promise<void> {
    const name = database
      ? database.file_name
      : `${backup.file_name ?? `backup-${backup.id}`}${backup.databases ? '.tar' : ''}`
    await withBusy(backup.id, () => api.downloadBackup(backup.id, name, database?.name))
  }

  /** Whether any backup of the target is still running (the page keeps polling while so). */
  function anyRunning(targetId: number): boolean {
    return list(targetId).some((b) => b.status === 'running')
  }

  return { byTarget, loading, busy, list, load, remove, restore, download, anyRunning }
})
