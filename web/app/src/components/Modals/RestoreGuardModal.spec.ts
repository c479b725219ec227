import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import RestoreGuardModal from './RestoreGuardModal.vue'
import { makeBackup, makeTarget } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

function mountGuard(busy = false) {
  return mount(RestoreGuardModal, {
    props: { open: true, target: makeTarget({ name: 'shop', dbname: 'shopdb', host: 'db.lan', port: 3306 }), backup: makeBackup(), busy },
    attachTo: document.body,
  })
}

function confirmButton(w: ReturnType<typeof mountGuard>) {
  return w.findAll('button').find((b) => b.text() === 'Restore database')!
}

describe('restore guard', () => {
  it('says which database is overwritten and that it cannot be undone', () => {
    const w = mountGuard()
    const dialog = w.get('[role="dialog"]')
    expect(dialog.attributes('aria-modal')).toBe('true')
    expect(dialog.text()).toContain('Restore database "shopdb"?')
    expect(dialog.text()).toContain('database "shopdb" on db.lan:3306 will be overwritten')
    expect(dialog.text()).toContain('This cannot be undone.')
    w.unmount()
  })

  it('labels the input with the name to type', () => {
    const w = mountGuard()
    const input = w.get('input')
    const label = w.get(`label[for="${input.attributes('id')}"]`)
    expect(label.text()).toBe('Type "shop" to confirm')
    w.unmount()
  })

  it('keeps the button disabled until the exact target name is typed', async () => {
    const w = mountGuard()
    const input = w.get('input')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    for (const wrong of ['', 'sho', 'Shop', 'SHOP', ' shop', 'shop ', 'shopdb']) {
      await input.setValue(wrong)
      expect(confirmButton(w).attributes('disabled'), wrong).toBeDefined()
    }
    await input.setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeUndefined()
    await confirmButton(w).trigger('click')
    expect(w.emitted('confirm')).toEqual([['shop']])
    w.unmount()
  })

  it('submits with Enter only when the name matches', async () => {
    const w = mountGuard()
    const input = w.get('input')
    await input.setValue('shap')
    await w.get('form').trigger('submit')
    expect(w.emitted('confirm')).toBeUndefined()
    await input.setValue('shop')
    await w.get('form').trigger('submit')
    expect(w.emitted('confirm')).toHaveLength(1)
    w.unmount()
  })

  it('stays disabled while the restore request runs and clears the input when reopened', async () => {
    const w = mountGuard(true)
    await w.get('input').setValue('shop')
    expect(confirmButton(w).attributes('disabled')).toBeDefined()
    await w.setProps({ busy: false, open: false })
    await w.setProps({ open: true })
    expect((w.get('input').element as HTMLInputElement).value).toBe('')
    w.unmount()
  })
})
