import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import TextField from './TextField.vue'

describe('text field', () => {
  it('labels its input and emits what is typed', async () => {
    const w = mount(TextField, { props: { modelValue: 'a', label: 'Host', required: true, spellcheck: false } })
    const input = w.get('input')
    expect(w.get('label').attributes('for')).toBe(input.attributes('id'))
    expect(input.attributes('aria-invalid')).toBe('false')
    expect(input.attributes('aria-describedby')).toBeUndefined()
    expect(input.attributes('spellcheck')).toBe('false')
    await input.setValue('db.lan')
    expect(w.emitted('update:modelValue')).toEqual([['db.lan']])
  })

  it('points the input at its error and hint and marks it invalid', () => {
    const w = mount(TextField, { props: { modelValue: '', label: 'Name', error: 'Required.', hint: 'Used in file names.' } })
    const input = w.get('input')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.classes()).toContain('input-error')
    const [errorId, hintId] = input.attributes('aria-describedby')!.split(' ')
    expect(w.get(`[id="${errorId}"]`).text()).toBe('Required.')
    expect(w.get(`[id="${hintId}"]`).text()).toBe('Used in file names.')
  })

  it('is a textarea when multiline, and shows what sits beside the input', async () => {
    const w = mount(TextField, {
      props: { modelValue: 'x', label: 'Comment', multiline: true, error: 'too long' },
      slots: { after: '<span data-testid="after">beside</span>' },
    })
    expect(w.get('textarea').classes()).toContain('textarea-error')
    expect(w.get('[data-testid="after"]').text()).toBe('beside')
    await w.get('textarea').setValue('y')
    expect(w.emitted('update:modelValue')).toEqual([['y']])
  })
})
