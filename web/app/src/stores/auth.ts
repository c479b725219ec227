// Login state: Basic-Auth credentials kept by the API client (this tab, or this device when asked),
// checked before storing.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, api, credentials } from '@/services/api'

export type LoginResult = 'ok' | 'wrong' | 'throttled'

export const useAuthStore = defineStore('auth', () => {
  const loggedIn = ref(credentials.get() !== null)
  const busy = ref(false)
  /** When the server accepts logins again (ms since the epoch), from a 429's Retry-After. */
  const throttledUntil = ref<number | null>(null)

  /**
   * Checks the pair against the server; stores it only when the server accepts it. While the
   * server refuses logins nothing is sent: another attempt would only be refused too.
   */
  async function login(user: string, password: string, remember = false): Promise<LoginResult> {
    if (throttledUntil.value !== null) {
      if (Date.now() < throttledUntil.value) return 'throttled'
      throttledUntil.value = null
    }
    busy.value = true
    try {
      await api.checkCredentials(user, password)
      credentials.set(user, password, { remember })
      loggedIn.value = true
      return 'ok'
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return 'wrong'
      if (e instanceof ApiError && e.status === 429) {
        throttledUntil.value = e.retryAfter === null ? null : Date.now() + e.retryAfter * 1000
        return 'throttled'
      }
      throw e
    } finally {
      busy.value = false
    }
  }

  function logout(): void {
    credentials.clear()
    loggedIn.value = false
  }

  /** Called by the 401 handler: the stored pair is no longer good. */
  function expired(): void {
    loggedIn.value = false
  }

  return { loggedIn, busy, throttledUntil, login, logout, expired }
})
