import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import RestoreGuardModal from './RestoreGuardModal.vue'
import VerifyKeyModal from './VerifyKeyModal.vue'
import { keyOptional, keyRequest } from '@/forms/ageKey'
import { ApiError } from '@/services/api'
import { makeBackup, makeTarget, mockFetch } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

const IDENTITY = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX'
const KEY_FILE = `# created: 2026-12-06T05:00:00Z\n# public key: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\n${IDENTITY}\n`
const encrypted = makeBackup({ encrypted: true, file_name: 'shop_2026-11-26_03-00-00.sql.gz.age' })

describe('the pasted key of an encrypted backup', () => {
  it('is an identity when it holds an AGE-SECRET-KEY-1 line (alone or the whole key file), else a passphrase', () => {
    expect(keyRequest(IDENTITY)).toEqual({ identity: IDENTITY })
    expect(keyRequest(KEY_FILE)).toEqual({ identity: KEY_FILE.trim() })
    expect(keyRequest(' a passphrase with spaces \n')).toEqual({ passphrase: ' a passphrase with spaces ' })
    expect(keyRequest('')).toEqual({})
  })

  it('may be left out only for a target that keeps its passphrase', () => {
    expect(keyOptional(makeTarget({ encryption: 'passphrase', has_age_passphrase: true }))).toBe(true)
    expect(keyOptional(makeTarget({ encryption: 'recipient', has_age_passphrase: false }))).toBe(false)
    expect(keyOptional(makeTarget({ encryption: 'off', has_age_passphrase: true }))).toBe(false)
  })
})

describe('restore dialog of an encrypted backup', () => {
  function mountGuard(target = makeTarget({ encryption: 'recipient', age_recipient: 'age1x' }), error: unknown = null) {
    const f = mockFetch({ 'GET /api/targets': { body: [target] } })
    const w = mount(RestoreGuardModal, {
      props: { open: true, target, backup: encrypted, error },
      attachTo: document.body,
    })
    return { w, f }
  }
  const restoreButton = (w: ReturnType<typeof mount>) => w.findAll('button').find((b) => b.text() === 'Restore database')!

  it('asks for the key, reads no table list, and sends the identity with this restore only', async () => {
    const { w, f } = mountGuard()
    await flushPromises()
    expect(f.calls.some((c) => c.url.includes('/contents'))).toBe(false)
    expect(w.text()).toContain('An encrypted backup is restored whole')
    const key = w.get<HTMLTextAreaElement>('[data-testid="age-key"]')
    expect(w.get(`label[for="${key.attributes('id')}"]`).text()).toBe('Key of this encrypted backup')
    await w.get('[data-testid="restore-confirm"]').setValue('shop')
    expect(restoreButton(w).attributes('disabled')).toBeDefined()
    await key.setValue(KEY_FILE)
    await restoreButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false, identity: KEY_FILE.trim() }]])
    w.unmount()
  })

  it('lets a passphrase target restore without a pasted key', async () => {
    const { w } = mountGuard(makeTarget({ encryption: 'passphrase', has_age_passphrase: true }))
    await flushPromises()
    expect(w.text()).toContain('Leave empty to use the target’s stored passphrase')
    await w.get('[data-testid="restore-confirm"]').setValue('shop')
    await restoreButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ confirm: 'shop', clean: false }]])
    w.unmount()
  })

  it('shows a key that does not open the file beside the key', async () => {
    const error = new ApiError(422, 'key_required', 'the identity or passphrase given does not open this encrypted backup', {
      identity: 'no match',
    })
    const { w } = mountGuard(undefined, error)
    await flushPromises()
    expect(w.get('[data-testid="age-key-error"]').text()).toBe('does not open this backup')
    w.unmount()
  })
})

describe('verify dialog of an encrypted backup', () => {
  it('sends the pasted key, or says how far the file was checked without one', async () => {
    const target = makeTarget({ encryption: 'recipient' })
    const w = mount(VerifyKeyModal, { props: { open: true, backup: encrypted, target }, attachTo: document.body })
    expect(w.text()).toContain('Verify encrypted backup shop_2026-11-26_03-00-00.sql.gz.age')
    expect(w.text()).toContain('never stored')
    await w.get('[data-testid="age-key"]').setValue(IDENTITY)
    await w.findAll('button').find((b) => b.text() === 'Verify')!.trigger('click')
    expect(w.emitted('confirm')).toEqual([[{ identity: IDENTITY }]])

    const checked = new ApiError(
      422,
      'key_required',
      'the encrypted file is whole as far as can be seen without its key (3 chunks, the recorded sha256 matches); the test restore needs its identity or passphrase',
      { identity: 'required' },
    )
    await w.setProps({ error: checked })
    expect(w.get('[data-testid="verify-error"]').text()).toContain('whole as far as can be seen without its key (3 chunks')
    w.unmount()
  })
})
