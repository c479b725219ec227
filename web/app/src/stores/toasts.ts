// Toast notifications: every action reports success or failure here; they fade on their own.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useI18n } from '@/i18n'
import { errorText } from '@/i18n/errors'
import { ApiError } from '@/services/api'

export type ToastKind = 'success' | 'error' | 'info'

export interface Toast {
  id: number
  kind: ToastKind
  message: string
}

export const TOAST_MS: Record<ToastKind, number> = { success: 4000, info: 4000, error: 9000 }

export const useToastStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([])
  const { t } = useI18n()
  let nextId = 1
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

  function push(kind: ToastKind, message: string, timeoutMs: number = TOAST_MS[kind]): number {
    const id = nextId++
    toasts.value.push({ id, kind, message })
    if (timeoutMs > 0) timers.set(id, setTimeout(() => dismiss(id), timeoutMs))
    return id
  }

  function dismiss(id: number): void {
    const timer = timers.get(id)
    if (timer) clearTimeout(timer)
    timers.delete(id)
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }

  const success = (message: string) => push('success', message)
  const info = (message: string) => push('info', message)

  /**
   * Reports a failure. A 401 is not toasted: the client already sent the user to the login form.
   * `prefix` says what failed ("Backup of shop failed"), the error says why.
   */
  function error(e: unknown, prefix?: string): number | null {
    if (e instanceof ApiError && e.status === 401) return null
    const why = errorText(e, t)
    return push('error', prefix ? `${prefix}: ${why}` : why)
  }

  function clear(): void {
    for (const timer of timers.values()) clearTimeout(timer)
    timers.clear()
    toasts.value = []
  }

  return { toasts, push, success, info, error, dismiss, clear }
})
