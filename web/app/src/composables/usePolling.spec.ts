import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { usePolling } from './usePolling'

let visibility: DocumentVisibilityState = 'visible'
beforeEach(() => {
  vi.useFakeTimers()
  visibility = 'visible'
  vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility)
})
afterEach(() => vi.useRealTimers())

function setVisibility(v: DocumentVisibilityState): void {
  visibility = v
  document.dispatchEvent(new Event('visibilitychange'))
}

describe('usePolling', () => {
  it('runs every interval after the previous run settled, never two at once', async () => {
    let release: () => void = () => {}
    const task = vi.fn(() => new Promise<void>((r) => (release = r)))
    const p = usePolling(task, 1000, { immediate: true })
    expect(task).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(5000) // still running: no second call
    void p.runNow()
    expect(task).toHaveBeenCalledTimes(1)
    release()
    await vi.advanceTimersByTimeAsync(999)
    expect(task).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(task).toHaveBeenCalledTimes(2)
    p.stop()
  })

  it('keeps polling after a failed run, and stops on stop()', async () => {
    const task = vi.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(undefined)
    const p = usePolling(task, 1000)
    expect(task).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(2000)
    expect(task).toHaveBeenCalledTimes(2)
    p.stop()
    expect(p.active.value).toBe(false)
    await vi.advanceTimersByTimeAsync(5000)
    expect(task).toHaveBeenCalledTimes(2)
  })

  it('pauses while the tab is hidden and runs once on return', async () => {
    const task = vi.fn()
    const p = usePolling(task, 1000)
    setVisibility('hidden')
    await vi.advanceTimersByTimeAsync(5000)
    expect(task).not.toHaveBeenCalled()
    setVisibility('visible')
    expect(task).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(task).toHaveBeenCalledTimes(2)
    p.stop()
  })

  it('waits for start() when asked to, and stops with the component that started it', async () => {
    const task = vi.fn()
    let poll!: ReturnType<typeof usePolling>
    const Host = defineComponent({
      setup() {
        poll = usePolling(task, 1000, { autoStart: false })
        return () => h('div')
      },
    })
    const w = mount(Host)
    await vi.advanceTimersByTimeAsync(3000)
    expect(task).not.toHaveBeenCalled()
    poll.start()
    poll.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(task).toHaveBeenCalledTimes(1)
    w.unmount()
    await vi.advanceTimersByTimeAsync(5000)
    expect(task).toHaveBeenCalledTimes(1)
  })
})
