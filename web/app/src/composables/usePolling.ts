// The one way the UI polls: a task every `intervalMs` after the previous run settled (never two
// at once), paused while the tab is hidden (one run on return), stopped with the component or
// store that started it.
import { getCurrentScope, onScopeDispose, readonly, ref, type Ref } from 'vue'

export interface Polling {
  /** Starts polling (a no-op while it runs). */
  start(): void
  stop(): void
  /** Runs the task now unless a run is in flight; the next tick counts from its end. */
  runNow(): Promise<void>
  active: Readonly<Ref<boolean>>
}

export interface PollingOptions {
  /** Run at once on start instead of one interval later. */
  immediate?: boolean
  /** Start in the setup that calls this (default), or wait for start(). */
  autoStart?: boolean
}

export function usePolling(
  task: () => unknown,
  intervalMs: number,
  { immediate = false, autoStart = true }: PollingOptions = {},
): Polling {
  const active = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let inFlight: Promise<void> | null = null

  const hidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden'

  function clear(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  function schedule(): void {
    clear()
    if (active.value && !hidden()) timer = setTimeout(() => void runNow(), intervalMs)
  }

  function runNow(): Promise<void> {
    inFlight ??= (async () => {
      clear()
      try {
        await task()
      } catch {
        /* the task keeps its own error; the next tick tries again */
      } finally {
        inFlight = null
        schedule()
      }
    })()
    return inFlight
  }

  function onVisibility(): void {
    if (!active.value) return
    if (hidden()) clear()
    else if (!inFlight) void runNow() // back on the tab: catch up at once
  }

  function start(): void {
    if (active.value) return
    active.value = true
    document.addEventListener('visibilitychange', onVisibility)
    if (immediate && !hidden()) void runNow()
    else if (!inFlight) schedule()
  }

  function stop(): void {
    active.value = false
    clear()
    document.removeEventListener('visibilitychange', onVisibility)
  }

  if (getCurrentScope()) onScopeDispose(stop)
  if (autoStart) start()
  return { start, stop, runNow, active: readonly(active) }
}
