// `npm ci` on the Node version the README names installs without engine warnings: every package in
// the lock file supports the lowest Node that package.json's engines field allows.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import { describe, expect, it } from 'vitest'

// Vitest runs in web/app (the config's root).
const read = (name: string) => JSON.parse(readFileSync(path.join(process.cwd(), name), 'utf8'))

describe('toolchain', () => {
  it('every locked package runs on the lowest Node the project supports (README: 20.19+)', () => {
    const oldest = semver.minVersion(read('package.json').engines.node)!.version
    expect(oldest).toBe('20.19.0')
    const lock = read('package-lock.json') as { packages: Record<string, { version?: string; engines?: { node?: string } }> }
    const unsupported = Object.entries(lock.packages)
      .filter(([, p]) => p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, '')}@${p.version} needs Node ${p.engines!.node}`)
    expect(unsupported).toEqual([])
  })
})
