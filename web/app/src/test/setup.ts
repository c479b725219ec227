// Test setup: fresh storage between tests so remembered settings never leak from one to the next;
// jsdom lacks scrollTo, which the router's scroll behaviour calls.
import { afterEach } from 'vitest'

window.scrollTo = () => {}

afterEach(() => {
  localStorage.clear()
  sessionStorage.clear()
})
