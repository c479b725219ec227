// The ids with a request in flight, shared by the stores whose rows disable their buttons meanwhile.
import { ref, type Ref } from 'vue'

export interface BusySet {
  /** Ids with a request in flight (replaced, never mutated, so watchers see each change). */
  busy: Ref<Set<number>>
  /** Runs `fn` with `id` marked busy until it settles. */
  withBusy<T>(id: number, fn: () => Promise<T>): Promise<T>
}

export function useBusySet(): BusySet {
  const busy = ref<Set<number>>(new Set())

  async function withBusy<T>(id: number, fn: () => Promise<T>): Promise<T> {
    busy.value = new Set(busy.value).add(id)
    try {
      return await fn()
    } finally {
      const next = new Set(busy.value)
      next.delete(id)
      busy.value = next
    }
  }

  return { busy, withBusy }
}
