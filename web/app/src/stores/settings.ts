// The server's settings: version, effective config, auth, disk space, unknown files.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Settings } from '@/services/api'

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  let pending: Promise<void> | null = null

  /** Loads afresh; callers that ask while a load runs (the frame and a page at start) share it. */
  function load(): Promise<void> {
    pending ??= fetchSettings().finally(() => {
      pending = null
    })
    return pending
  }

  async function fetchSettings(): Promise<void> {
    loading.value = true
    try {
      settings.value = await api.getSettings()
      error.value = null
    } catch (e) {
      error.value = e
      throw e
    } finally {
      loading.value = false
    }
  }

  return { settings, loading, error, load }
})
