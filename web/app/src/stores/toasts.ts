// Toast notifications: every action reports success or failure here; they fade on their own. A
// message that is already shown is not stacked again: its toast counts it and starts its time anew.
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
  /** How many times the message came while the toast was shown. */
  count: number
}

export const TOAST_MS: Record<ToastKind, number> = { success: 4000, info: 4000, error: 9000 }

export const useToastStore = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([])
  const { t } = useI18n()
  let nextId = 1
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

  function push(kind: ToastKind, message: string, timeoutMs: number = TOAST_MS[kind]): number {
    const shown = toasts.value.find((x) => x.kind === kind && x.message === message)
    const id = shown?.id ?? nextId++
    if (shown) {
      shown.count++
      clearTimeout(timers.get(id))
      timers.delete(id)
    } else {
      toasts.value.push({ id, kind, message, count: 1 })
    }
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
