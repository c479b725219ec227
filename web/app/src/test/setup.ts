// Test setup: fresh storage between tests so remembered settings never leak from one to the next.
import { afterEach } from 'vitest'

afterEach(() => {
  localStorage.clear()
  sessionStorage.clear()
})
