// The key a user pastes to open an encrypted backup for one restore or verification: an age
// identity (the AGE-SECRET-KEY-1… line, or the whole file age-keygen writes) or a passphrase.
// Sent as `identity` or `passphrase` (docs/API.md); never kept beyond the dialog.
import type { VerifyRequest } from '@/services/api'

const IDENTITY = /AGE-SECRET-KEY-1[0-9A-Z]+/

/** The request fields for the pasted text; {} when nothing was pasted. */
export function keyRequest(text: string): VerifyRequest {
  if (IDENTITY.test(text)) return { identity: text.trim() }
  // a passphrase is taken as typed: spaces at its ends may be part of it
  const line = text.replace(/\r?\n$/, '')
  return line === '' ? {} : { passphrase: line }
}

/** Whether a restore or verification of this backup can go without a pasted key. */
export function keyOptional(target: { encryption: string; has_age_passphrase: boolean }): boolean {
  return target.encryption === 'passphrase' && target.has_age_passphrase
}
