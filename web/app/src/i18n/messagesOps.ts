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
  'tokens.title': 'API tokens',
  'tokens.help':
    'For scripts and monitoring: send "Authorization: Bearer <token>". A read token may only read; a full token may do what you may.',
  'tokens.authOff':
    'Authentication is off (ADMIN_USER and ADMIN_PASS are not set): every request is let in, so tokens change nothing.',
  'tokens.none': 'No tokens yet.',
  'tokens.name': 'Name',
  'tokens.scope': 'Scope',
  'tokens.scope.read': 'read',
  'tokens.scope.full': 'full',
  'tokens.create': 'Create token',
  'tokens.created': 'created {time}',
  'tokens.lastUsed': 'last used {time}',
  'tokens.revoke': 'Revoke',
  'tokens.revokeNamed': 'Revoke token {name}',
  'tokens.revoked': 'Token "{name}" revoked.',
  'tokens.showOnce': 'Token "{name}" created. Copy it now: it is not shown again.',
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
  'tokens.title': 'API-Tokens',
  'tokens.help':
    'Für Skripte und Monitoring: „Authorization: Bearer <Token>“ senden. Ein Lese-Token darf nur lesen, ein volles Token alles, was du darfst.',
  'tokens.authOff':
    'Die Anmeldung ist aus (ADMIN_USER und ADMIN_PASS sind nicht gesetzt): jede Anfrage wird eingelassen, Tokens ändern also nichts.',
  'tokens.none': 'Noch keine Tokens.',
  'tokens.name': 'Name',
  'tokens.scope': 'Umfang',
  'tokens.scope.read': 'lesen',
  'tokens.scope.full': 'voll',
  'tokens.create': 'Token erstellen',
  'tokens.created': 'erstellt {time}',
  'tokens.lastUsed': 'zuletzt benutzt {time}',
  'tokens.revoke': 'Widerrufen',
  'tokens.revokeNamed': 'Token {name} widerrufen',
  'tokens.revoked': 'Token „{name}“ widerrufen.',
  'tokens.showOnce': 'Token „{name}“ erstellt. Jetzt kopieren: es wird nicht wieder angezeigt.',
}
