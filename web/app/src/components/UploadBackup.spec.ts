import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import UploadBackup from './UploadBackup.vue'
import { useToastStore } from '@/stores'
import { makeBackup } from '@/test/helpers'

/** A stand-in XMLHttpRequest the test drives: progress, an answer, or the browser's abort. */
class FakeXhr {
  static last: FakeXhr | null = null
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = null
  status = 0
  statusText = ''
  responseText = ''
  aborted = false
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = {
    onprogress: null,
  }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  constructor() {
    FakeXhr.last = this
  }
  open(method: string, url: string): void {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value
  }
  send(body: unknown): void {
    this.body = body
  }
  abort(): void {
    this.aborted = true
    this.onabort?.()
  }
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true })
  }
  answer(status: number, body: unknown): void {
    this.status = status
    this.responseText = JSON.stringify(body)
    this.onload?.()
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  FakeXhr.last = null
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
})
afterEach(() => vi.unstubAllGlobals())
// each test's component goes, and with it its listeners on the window
enableAutoUnmount(afterEach)

const dump = () => new File(['-- phpMyAdmin SQL Dump\nCREATE TABLE t (a INT);\n'], 'shop.sql', { type: 'application/sql' })

async function choose(w: ReturnType<typeof mount>, file: File): Promise<FakeXhr> {
  const input = w.get('[data-testid="upload-input"]')
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  await flushPromises()
  return FakeXhr.last!
}

describe('UploadBackup', () => {
  it('sends the chosen file as the raw body, shows progress, then reports the new backup', async () => {
    const w = mount(UploadBackup, { props: { targetId: 7 } })
    const file = dump()
    const xhr = await choose(w, file)
    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe('/api/targets/7/uploads?filename=shop.sql')
    expect(xhr.headers['Content-Type']).toBe('application/octet-stream')
    expect(xhr.body).toBe(file)
    xhr.progress(20, file.size)
    await flushPromises()
    expect(w.get('[data-testid="upload-status"]').text()).toBe(`Uploading shop.sql: 20 B of ${file.size} B`)
    expect(w.get('progress').attributes('value')).toBe(String(Math.round((100 * 20) / file.size)))
    xhr.progress(file.size, file.size)
    await flushPromises()
    expect(w.get('[data-testid="upload-status"]').text()).toBe('Checking shop.sql…')
    expect(w.find('[data-action="upload-cancel"]').exists()).toBe(false)
    const backup = makeBackup({ id: 9, trigger: 'upload', file_name: 'shop.sql' })
    xhr.answer(201, backup)
    await flushPromises()
    expect(w.emitted('uploaded')).toEqual([[backup]])
    expect(useToastStore().toasts[0]?.message).toBe('shop.sql uploaded and checked: it is a backup of this target now.')
    expect(w.find('progress').exists()).toBe(false)
  })

  it('says why the server refused the file, readably', async () => {
    const w = mount(UploadBackup, { props: { targetId: 7 } })
    const xhr = await choose(w, dump())
    xhr.answer(422, {
      error: { code: 'backup_corrupt', message: 'the file is incomplete: it ends inside a statement', fields: {} },
    })
    await flushPromises()
    expect(w.get('[data-testid="upload-error"]').text()).toBe(
      'shop.sql was not kept: The backup file is damaged: the file is incomplete: it ends inside a statement',
    )
    expect(w.emitted('uploaded')).toBeUndefined()
  })

  it('names the size limit on a 413', async () => {
    const w = mount(UploadBackup, { props: { targetId: 7 } })
    const xhr = await choose(w, dump())
    xhr.answer(413, {
      error: { code: 'payload_too_large', message: 'the file is larger than UPLOAD_MAX_BYTES (1024 bytes)', fields: {} },
    })
    await flushPromises()
    expect(w.get('[data-testid="upload-error"]').text()).toContain('UPLOAD_MAX_BYTES = 1024 bytes')
  })

  it('cancels: the request is aborted and nothing is reported as failed', async () => {
    const w = mount(UploadBackup, { props: { targetId: 7 } })
    const xhr = await choose(w, dump())
    xhr.progress(5, 40)
    await flushPromises()
    await w.get('[data-action="upload-cancel"]').trigger('click')
    await flushPromises()
    expect(xhr.aborted).toBe(true)
    expect(w.find('[data-testid="upload-error"]').exists()).toBe(false)
    expect(useToastStore().toasts[0]?.message).toBe('The upload of shop.sql was cancelled; nothing was kept.')
    expect(w.find('[data-testid="upload-input"]').exists()).toBe(true)
  })

  it('takes a file dropped on the zone, and refuses several at once', async () => {
    const w = mount(UploadBackup, { props: { targetId: 3 } })
    const zone = w.get('[data-testid="upload-drop"]')
    await zone.trigger('drop', { dataTransfer: { files: [dump(), dump()] } })
    expect(w.get('[data-testid="upload-error"]').text()).toBe('Drop one file at a time.')
    expect(FakeXhr.last).toBeNull()
    await zone.trigger('dragover', { dataTransfer: { files: [] } })
    expect(w.text()).toContain('Drop the file to upload it')
    await zone.trigger('drop', { dataTransfer: { files: [dump()] } })
    await flushPromises()
    expect(FakeXhr.last?.url).toBe('/api/targets/3/uploads?filename=shop.sql')
  })
})

describe('UploadBackup on the page', () => {
  it('takes a file dropped anywhere on the page instead of letting the browser open it', async () => {
    const w = mount(UploadBackup, { props: { targetId: 5 }, attachTo: document.body })
    const transfer = { types: ['Files'], files: [dump()] }
    const over = new Event('dragover', { cancelable: true }) as DragEvent
    Object.defineProperty(over, 'dataTransfer', { value: transfer })
    window.dispatchEvent(over)
    expect(over.defaultPrevented).toBe(true)
    await flushPromises()
    expect(w.text()).toContain('Drop the file to upload it')
    const drop = new Event('drop', { cancelable: true, bubbles: true }) as DragEvent
    Object.defineProperty(drop, 'dataTransfer', { value: transfer })
    document.body.dispatchEvent(drop)
    await flushPromises()
    expect(drop.defaultPrevented).toBe(true)
    expect(FakeXhr.last?.url).toBe('/api/targets/5/uploads?filename=shop.sql')
    w.unmount()
    // gone with the page: a later drop is the browser's again
    const later = new Event('drop', { cancelable: true, bubbles: true }) as DragEvent
    Object.defineProperty(later, 'dataTransfer', { value: transfer })
    window.dispatchEvent(later)
    expect(later.defaultPrevented).toBe(false)
  })
})
