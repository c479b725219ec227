// The restore history per target (GET /api/targets/:id/restores, newest first): restores into the
// target and of its backups elsewhere. Pages reload it when a restore ends (the jobs store says so).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Restore } from '@/services/api'

export const useRestoresStore = defineStore('restores', () => {
  const byTarget = ref<Record<number, Restore[]>>({})
  const errors = ref<Record<number, unknown>>({})

  function list(targetId: number): Restore[] {
    return byTarget.value[targetId] ?? []
  }

  async function load(targetId: number): Promise<Restore[]> {
    try {
      const rows = await api.listRestores(targetId)
      byTarget.value = { ...byTarget.value, [targetId]: rows }
      errors.value = { ...errors.value, [targetId]: null }
      return rows
    } catch (e) {
      errors.value = { ...errors.value, [targetId]: e }
      return list(targetId)
    }
  }

  return { byTarget, errors, list, load }
})
