import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { useRestoresStore } from './restores'
import { mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

describe('restores store', () => {
  it('loads a target\'s restores and keeps the last list when a reload fails', async () => {
    const f = mockFetch({ 'GET /api/targets/1/restores': { body: [{ id: 2 }] } })
    const store = useRestoresStore()
    expect(store.list(1)).toEqual([])
    await store.load(1)
    expect(store.list(1)).toEqual([{ id: 2 }])
    expect(store.errors[1]).toBeNull()
    f.on('GET /api/targets/1/restores', { status: 500, body: { error: { code: 'internal', message: 'boom' } } })
    await expect(store.load(1)).resolves.toEqual([{ id: 2 }])
    expect(store.errors[1]).toBeTruthy()
  })
})
