import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, nextTick, ref } from 'vue'
import BaseModal from './BaseModal.vue'
import ConfirmModal from './ConfirmModal.vue'

beforeEach(() => setActivePinia(createPinia()))

const Host = defineComponent({
  components: { BaseModal },
  props: { locked: { type: Boolean, default: false } },
  setup() {
    const open = ref(false)
    return { open }
  },
  template: `
    <div>
      <button id="opener" @click="open = true">Open</button>
      <BaseModal :open="open" title="Hello" :locked="locked" @close="open = false">
        <input id="first" aria-label="first" />
        <template #actions><button id="last">OK</button></template>
      </BaseModal>
    </div>`,
})

async function settle() {
  await nextTick()
  await nextTick()
}

describe('modal', () => {
  it('moves focus in on open, keeps Tab inside, closes on Escape and gives focus back', async () => {
    const w = mount(Host, { attachTo: document.body })
    const opener = w.get('#opener')
    ;(opener.element as HTMLElement).focus()
    await opener.trigger('click')
    await settle()
    expect(w.get('[role="dialog"]').attributes('aria-labelledby')).toBeTruthy()
    expect(document.activeElement?.id).toBe('first')

    // Tab from the last focusable element (the close button) wraps to the first.
    const focusables = w.get('[role="dialog"]').findAll('input, button')
    const last = focusables[focusables.length - 1]!.element as HTMLElement
    last.focus()
    await w.get('.modal').trigger('keydown', { key: 'Tab' })
    expect(document.activeElement?.id).toBe('first')
    await w.get('.modal').trigger('keydown', { key: 'Tab', shiftKey: true })
    expect(document.activeElement).toBe(last)

    await w.get('.modal').trigger('keydown', { key: 'Escape' })
    await settle()
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    expect(document.activeElement?.id).toBe('opener')
    w.unmount()
  })

  it('does not close while locked', async () => {
    const w = mount(Host, { props: { locked: true }, attachTo: document.body })
    await w.get('#opener').trigger('click')
    await settle()
    await w.get('.modal').trigger('keydown', { key: 'Escape' })
    await w.get('.modal-backdrop').trigger('click')
    expect(w.find('[role="dialog"]').exists()).toBe(true)
    w.unmount()
  })

  it('closes from the backdrop and the close button', async () => {
    const w = mount(Host, { attachTo: document.body })
    await w.get('#opener').trigger('click')
    await w.get('.modal-backdrop').trigger('click')
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    await w.get('#opener').trigger('click')
    await w.get('button[aria-label="Close"]').trigger('click')
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    w.unmount()
  })

  it('confirm modal: focuses Cancel, and holds the confirm button back until allowed', async () => {
    const w = mount(ConfirmModal, {
      props: { open: false, title: 'Delete?', confirmLabel: 'Delete it', canConfirm: false },
      attachTo: document.body,
    })
    await w.setProps({ open: true })
    await settle()
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel')
    const confirm = w.findAll('button').find((b) => b.text() === 'Delete it')!
    expect(confirm.attributes('disabled')).toBeDefined()
    await w.setProps({ canConfirm: true })
    await confirm.trigger('click')
    expect(w.emitted('confirm')).toHaveLength(1)
    await w.findAll('button').find((b) => b.text() === 'Cancel')!.trigger('click')
    expect(w.emitted('cancel')).toHaveLength(1)
    w.unmount()
  })
})
