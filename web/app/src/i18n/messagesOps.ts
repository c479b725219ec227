// UI texts of the operations features (cancelled state, staleness, tokens, notifications,
// retention, schedules) in English and German; messages.ts merges them into its catalogues.

export const opsEn = {
  'status.cancelled': 'cancelled',
  'backups.backupCancelled': 'Backup of "{name}" was cancelled.',
  'backups.restoreCancelled': 'Restore of "{name}" was cancelled: {notes}',
  'backups.fixTarget': 'Edit the target',
  'time.justNow': 'just now',
  'time.ago': '{value} ago',
  'ops.lastSuccess': 'Last good backup',
  'ops.stale': 'overdue',
  'ops.staleHelp': 'A scheduled backup did not succeed in time.',
} as const

export type OpsKey = keyof typeof opsEn

export const opsDe: Record<OpsKey, string> = {
  'status.cancelled': 'abgebrochen',
  'backups.backupCancelled': 'Backup von „{name}“ wurde abgebrochen.',
  'backups.restoreCancelled': 'Wiederherstellung von „{name}“ wurde abgebrochen: {notes}',
  'backups.fixTarget': 'Ziel bearbeiten',
  'time.justNow': 'gerade eben',
  'time.ago': 'vor {value}',
  'ops.lastSuccess': 'Letztes gutes Backup',
  'ops.stale': 'überfällig',
  'ops.staleHelp': 'Ein geplantes Backup ist nicht rechtzeitig gelungen.',
}
