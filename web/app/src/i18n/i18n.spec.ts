import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { translate, useI18n } from '.'
import { de, en } from './messages'
import { usePrefsStore } from '@/stores'

describe('i18n', () => {
  it('has a German text for every English key, with the same placeholders', () => {
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(de[key], key).toBeTruthy()
      const params = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort()
      expect(params(de[key]), key).toEqual(params(en[key]))
    }
  })

  it('fills in parameters and follows the chosen language', () => {
    setActivePinia(createPinia())
    const { t } = useI18n()
    const prefs = usePrefsStore()
    prefs.setLocale('en')
    expect(t('restore.prompt', { name: 'shop' })).toBe('Type "shop" to confirm')
    prefs.setLocale('de')
    expect(t('restore.prompt', { name: 'shop' })).toBe('Zur Bestätigung „shop“ eingeben')
    expect(translate('en', 'edit.localTime', { time: '04:00' })).toBe('= 04:00 your time ({zone})')
  })
})
