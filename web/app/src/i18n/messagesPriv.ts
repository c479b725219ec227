// UI texts of what a backup user may not see (success with warnings, strict mode), the last
// verified backup on a target's card and cancelling a verification; messages.ts merges them.

export const privEn = {
  'status.successWarnings': 'success with warnings',
  'backups.warnings': 'Warnings',
  'dashboard.lastVerified': 'Last verified',
  'jobs.cancelVerify': 'Cancel verification',
  'jobs.cancelRequested.verify': 'Verification of "{name}" is being cancelled; its scratch database is dropped.',
  'jobs.cancelFailed.verify': 'Could not cancel the verification of "{name}"',
  'edit.strict': 'Strict: fail when the backup user may not see every object',
  'edit.strictHelp':
    'The server silently hides views, triggers, events and routines the backup user lacks a grant for. Off: such a backup succeeds with a warning naming the grant. On: it fails.',
} as const

export const privDe: Record<keyof typeof privEn, string> = {
  'status.successWarnings': 'erfolgreich mit Warnungen',
  'backups.warnings': 'Warnungen',
  'dashboard.lastVerified': 'Zuletzt geprüft',
  'jobs.cancelVerify': 'Prüfung abbrechen',
  'jobs.cancelRequested.verify': 'Prüfung von „{name}“ wird abgebrochen; ihre Prüfdatenbank wird gelöscht.',
  'jobs.cancelFailed.verify': 'Prüfung von „{name}“ konnte nicht abgebrochen werden',
  'edit.strict': 'Strikt: fehlschlagen, wenn der Backup-Benutzer nicht jedes Objekt sieht',
  'edit.strictHelp':
    'Der Server verbirgt Views, Trigger, Events und Routinen, für die dem Backup-Benutzer ein Recht fehlt, ohne Fehlermeldung. Aus: ein solches Backup gelingt mit einer Warnung, die das Recht nennt. An: es schlägt fehl.',
}
