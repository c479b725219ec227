// Routes (history mode, so deep links like /targets/1/backups load directly) and the one place
// that turns an API 401 into a visit to the login form.
import {
  createRouter,
  createWebHistory,
  type Router,
  type RouteRecordRaw,
  type RouterHistory,
} from 'vue-router'
import type { Pinia } from 'pinia'
import { watchEffect } from 'vue'
import Backups from '@/pages/Backups.vue'
import Dashboard from '@/pages/Dashboard.vue'
import Login from '@/pages/Login.vue'
import NotFound from '@/pages/NotFound.vue'
import Settings from '@/pages/Settings.vue'
import TargetEdit from '@/pages/TargetEdit.vue'
import Targets from '@/pages/Targets.vue'
import { setUnauthorizedHandler } from '@/services/api'
import { useAuthStore } from '@/stores/auth'
import { usePrefsStore } from '@/stores/prefs'
import { translate, type MessageKey } from '@/i18n'

declare module 'vue-router' {
  interface RouteMeta {
    title?: MessageKey
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'dashboard', component: Dashboard, meta: { title: 'nav.dashboard' } },
  { path: '/targets', name: 'targets', component: Targets, meta: { title: 'nav.targets' } },
  { path: '/targets/new', name: 'target-new', component: TargetEdit, meta: { title: 'edit.titleNew' } },
  { path: '/targets/:id(\\d+)/edit', name: 'target-edit', component: TargetEdit, meta: { title: 'nav.targets' } },
  { path: '/targets/:id(\\d+)/backups', name: 'backups', component: Backups, meta: { title: 'action.backups' } },
  { path: '/settings', name: 'settings', component: Settings, meta: { title: 'nav.settings' } },
  { path: '/login', name: 'login', component: Login, meta: { title: 'login.submit' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: NotFound },
]

export function createAppRouter(history: RouterHistory = createWebHistory()): Router {
  return createRouter({ history, routes, scrollBehavior: () => ({ top: 0 }) })
}

/** Sets the tab title from the route in the chosen language, again when the language changes. */
export function installTitles(router: Router, pinia: Pinia): void {
  const prefs = usePrefsStore(pinia)
  watchEffect(() => {
    const key = router.currentRoute.value.meta.title
    document.title = key ? `${translate(prefs.locale, key)} · dumper` : 'dumper'
  })
}

/** The one 401 handler: forget the login and go to the login form, then come back. */
export function installUnauthorizedRedirect(router: Router, pinia: Pinia): void {
  setUnauthorizedHandler(() => {
    useAuthStore(pinia).expired()
    const current = router.currentRoute.value
    if (current.name === 'login') return
    void router.push({ name: 'login', query: { redirect: current.fullPath } })
  })
}
