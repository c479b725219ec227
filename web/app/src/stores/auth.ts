// Login state: Basic-Auth credentials in sessionStorage (via the API client), checked before storing.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, api, credentials } from '@/services/api'

export type LoginResult = 'ok' | 'wrong' | 'throttled'

export const useAuthStore = defineStore('auth', () => {
  const loggedIn = ref(credentials.get() !== null)
  const busy = ref(false)

  /** Checks the pair against the server; stores it only when the server accepts it. */
  async function login(user: string, password: string): Promise<LoginResult> {
    busy.value = true
    try {
      await api.checkCredentials(user, password)
      credentials.set(user, password)
      loggedIn.value = true
      return 'ok'
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return 'wrong'
      if (e instanceof ApiError && e.status === 429) return 'throttled'
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

  return { loggedIn, busy, login, logout, expired }
})
