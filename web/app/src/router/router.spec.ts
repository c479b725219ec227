import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { createMemoryHistory } from 'vue-router'
import { createAppRouter, installTitles } from '.'
import { usePrefsStore } from '@/stores'

describe('tab title', () => {
  it('names the page in the chosen language and follows a language switch without navigation', async () => {
    const pinia = createPinia()
    setActivePinia(pinia)
    const router = createAppRouter(createMemoryHistory())
    installTitles(router, pinia)
    usePrefsStore(pinia).setLocale('en')
    await router.push('/settings')
    await router.isReady()
    expect(document.title).toBe('Settings · dumper')
    usePrefsStore(pinia).setLocale('de')
    await nextTick()
    expect(document.title).toBe('Einstellungen · dumper')
  })
})
