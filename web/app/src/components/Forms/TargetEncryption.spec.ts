import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import TargetForm from './TargetForm.vue'
import { emptyForm, formFromTarget, toTargetInput, validateEncryption } from '@/forms/targetForm'
import { makeTarget } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

const RECIPIENT = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj'

describe('a target form’s encryption', () => {
  it('needs a public key for recipient mode, and no verification after each backup with it', () => {
    const s = { ...emptyForm(), encryption: 'recipient' as const }
    expect(validateEncryption(s).age_recipient?.key).toBe('encryption.field.recipient')
    s.age_recipient = RECIPIENT
    expect(validateEncryption(s)).toEqual({})
    s.ops = { ...s.ops, verify_after_backup: true }
    expect(validateEncryption(s).verify_after_backup?.key).toBe('encryption.field.noVerifyAfter')
  })

  it('needs a passphrase of 12 characters unless one is stored, and sends it only when typed', () => {
    const s = { ...emptyForm(), encryption: 'passphrase' as const }
    expect(validateEncryption(s).age_passphrase?.key).toBe('encryption.field.passphraseRequired')
    s.age_passphrase = 'too short'
    expect(validateEncryption(s).age_passphrase?.params).toEqual({ min: 12 })
    const stored = formFromTarget(makeTarget({ encryption: 'passphrase', has_age_passphrase: true }))
    expect(validateEncryption(stored)).toEqual({})
    expect(toTargetInput(stored, 'edit')).toMatchObject({ encryption: 'passphrase' })
    expect(toTargetInput(stored, 'edit')).not.toHaveProperty('age_passphrase')
    expect(toTargetInput({ ...stored, age_passphrase: 'a new long passphrase' }, 'edit').age_passphrase).toBe(
      'a new long passphrase',
    )
  })

  it('always sends the mode, so a PUT never turns encryption off by leaving it out', () => {
    const s = formFromTarget(makeTarget({ encryption: 'recipient', age_recipient: RECIPIENT }))
    expect(toTargetInput(s, 'edit')).toMatchObject({ encryption: 'recipient', age_recipient: RECIPIENT })
    expect(toTargetInput(emptyForm(), 'create')).toMatchObject({ encryption: 'off' })
  })

  it('says in the form that a lost key means lost backups, and shows the key field for recipient mode', async () => {
    const w = mount(TargetForm, { props: { mode: 'create', initial: emptyForm() } })
    const section = w.get('[data-testid="encryption-fields"]')
    expect(section.text()).toContain('A lost private key or passphrase means lost backups')
    expect(section.text()).not.toContain('age public key (age1…)')
    await w.get('[data-testid="encryption-mode"]').setValue('recipient')
    expect(section.text()).toContain('age public key (age1…)')
    expect(section.text()).toContain('dumper keygen --age')
  })
})
