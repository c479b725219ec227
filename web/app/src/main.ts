// Entry: Pinia, the router, the 401 redirect, the remembered theme and language.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { createAppRouter, installTitles, installUnauthorizedRedirect } from './router'
import { usePrefsStore } from './stores'
import './style.css'

const pinia = createPinia()
const router = createAppRouter()
installUnauthorizedRedirect(router, pinia)
installTitles(router, pinia)

const app = createApp(App)
app.use(pinia)
app.use(router)
usePrefsStore(pinia).apply()
app.mount('#app')
