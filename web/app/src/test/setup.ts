// Test setup: fresh storage and login state between tests so nothing leaks from one to the next;
// jsdom lacks scrollTo, which the router's scroll behaviour calls.
import { afterEach } from 'vitest'
import { credentials } from '@/services/api'

window.scrollTo = () => {}

afterEach(() => {
  credentials.clear() // also forgets a 401 seen by the API client
  localStorage.clear()
  sessionStorage.clear()
})
