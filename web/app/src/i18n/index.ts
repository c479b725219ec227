// A tiny i18n: flat message keys, {param} substitution, the language from the prefs store.
import { computed } from 'vue'
import { de, en, type MessageKey, type Messages } from './messages'
import { usePrefsStore, type Locale } from '@/stores/prefs'

export type { MessageKey }
export type Params = Record<string, string | number>

const catalogs: Record<Locale, Messages> = { en, de }

export function translate(locale: Locale, key: MessageKey, params: Params = {}): string {
  const text = catalogs[locale][key] ?? en[key] ?? key
  return text.replace(/\{(\w+)\}/g, (all, name: string) =>
    name in params ? String(params[name]) : all,
  )
}

export function useI18n() {
  const prefs = usePrefsStore()
  const locale = computed(() => prefs.locale)
  const t = (key: MessageKey, params?: Params): string => translate(prefs.locale, key, params)
  return { t, locale }
}
