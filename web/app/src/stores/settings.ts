// The server's settings: version, effective config, auth, disk space, unknown files.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Settings } from '@/services/api'

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)

  async function load(): Promise<void> {
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
