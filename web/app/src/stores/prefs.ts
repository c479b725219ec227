// Theme and language, remembered in localStorage and applied to <html>.
import { defineStore } from 'pinia'
import { ref } from 'vue'

export type Theme = 'light' | 'dark'
export type Locale = 'en' | 'de'

const THEME_KEY = 'dumper.theme'
const LOCALE_KEY = 'dumper.locale'

function read(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value)
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

function initialTheme(): Theme {
  const saved = read(THEME_KEY)
  if (saved === 'light' || saved === 'dark') return saved
  const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches
  return dark ? 'dark' : 'light'
}

function initialLocale(): Locale {
  const saved = read(LOCALE_KEY)
  if (saved === 'en' || saved === 'de') return saved
  const lang = typeof navigator !== 'undefined' ? navigator.language : 'en'
  return lang.toLowerCase().startsWith('de') ? 'de' : 'en'
}

export const usePrefsStore = defineStore('prefs', () => {
  const theme = ref<Theme>(initialTheme())
  const locale = ref<Locale>(initialLocale())

  function apply(): void {
    document.documentElement.setAttribute('data-theme', theme.value)
    document.documentElement.setAttribute('lang', locale.value)
  }

  function setTheme(value: Theme): void {
    theme.value = value
    write(THEME_KEY, value)
    apply()
  }

  function setLocale(value: Locale): void {
    locale.value = value
    write(LOCALE_KEY, value)
    apply()
  }

  return { theme, locale, apply, setTheme, setLocale }
})
