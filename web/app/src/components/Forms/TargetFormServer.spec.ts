// The target form for a whole server: database `*` shows the list of databases to leave out with
// its help; the list is sent with the save, and refused beside the field for one database.
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import TargetForm from './TargetForm.vue'
import { formFromTarget } from '@/forms/targetForm'
import type { TargetInput } from '@/services/api'
import { makeTarget } from '@/test/helpers'

beforeEach(() => setActivePinia(createPinia()))

describe('TargetForm with database *', () => {
  it('shows the exclude field for * only, with its help, and sends it', async () => {
    const w = mount(TargetForm, { props: { mode: 'edit', initial: formFromTarget(makeTarget()) } })
    expect(w.find('[data-testid="exclude"]').exists()).toBe(false)
    expect(w.text()).toContain('or * for every database the user can see')
    const dbname = w.findAll('input').find((i) => i.element.value === 'shopdb')!
    await dbname.setValue('*')
    const exclude = w.get('[data-testid="exclude"]')
    expect(exclude.text()).toContain('mysql, information_schema, performance_schema and sys are always left out')
    await exclude.get('input').setValue('test_*, scratch')
    await w.get('form').trigger('submit')
    const sent = w.emitted('submit')![0]![0] as TargetInput
    expect(sent).toMatchObject({ dbname: '*', exclude: 'test_*, scratch' })
  })

  it('marks a pattern in the database name and a list without *', async () => {
    const w = mount(TargetForm, { props: { mode: 'edit', initial: formFromTarget(makeTarget({ dbname: '*', exclude: 'a' })) } })
    const dbname = w.findAll('input').find((i) => i.element.value === '*')!
    await dbname.setValue('shop*')
    await w.get('form').trigger('submit')
    expect(w.emitted('submit')).toBeUndefined()
    expect(w.text()).toContain('Give one database name, or * for every database.')
    await dbname.setValue('shop')
    expect(w.text()).toContain('Only a target of every database (*) leaves some out.')
  })
})
