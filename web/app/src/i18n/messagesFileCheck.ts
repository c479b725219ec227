// UI texts of the file check (backup files re-hashed over time) in English and German; messages.ts merges them.

export const fileCheckEn = {
  'fileCheck.title': 'Backup files',
  'fileCheck.help':
    'Every backup file is read again and its sha256 compared with the one recorded when it was written, one file at a time and at low priority. A problem found is reported once (file_corrupt, file_missing).',
  'fileCheck.interval': 'Periodic check',
  'fileCheck.every': 'every {hours} h (FILE_CHECK_INTERVAL_HOURS)',
  'fileCheck.off': 'off: only when started here (FILE_CHECK_INTERVAL_HOURS=0)',
  'fileCheck.lastRun': 'Last check',
  'fileCheck.lastRunValue': '{time}: {count} file(s) checked',
  'fileCheck.cutOff': 'started {time}, did not finish',
  'fileCheck.nextRun': 'Next check',
  'fileCheck.result': 'Result',
  'fileCheck.allWhole': 'no problem found',
  'fileCheck.problems': '{corrupt} corrupt, {missing} missing',
  'fileCheck.start': 'Check now',
  'fileCheck.running': 'Checking…',
  'fileCheck.started': 'The check of the backup files started.',
  'fileCheck.flag.corrupt': 'file corrupt',
  'fileCheck.flag.missing': 'file was missing',
  'fileCheck.flagTitle': 'File check of {time}: {notes}',
} as const

export const fileCheckDe: Record<keyof typeof fileCheckEn, string> = {
  'fileCheck.title': 'Backup-Dateien',
  'fileCheck.help':
    'Jede Backup-Datei wird erneut gelesen und ihre sha256 mit der beim Schreiben festgehaltenen verglichen, eine Datei nach der anderen und mit niedriger Priorität. Ein gefundenes Problem wird einmal gemeldet (file_corrupt, file_missing).',
  'fileCheck.interval': 'Regelmäßige Prüfung',
  'fileCheck.every': 'alle {hours} h (FILE_CHECK_INTERVAL_HOURS)',
  'fileCheck.off': 'aus: nur wenn hier gestartet (FILE_CHECK_INTERVAL_HOURS=0)',
  'fileCheck.lastRun': 'Letzte Prüfung',
  'fileCheck.lastRunValue': '{time}: {count} Datei(en) geprüft',
  'fileCheck.cutOff': 'gestartet {time}, nicht beendet',
  'fileCheck.nextRun': 'Nächste Prüfung',
  'fileCheck.result': 'Ergebnis',
  'fileCheck.allWhole': 'kein Problem gefunden',
  'fileCheck.problems': '{corrupt} beschädigt, {missing} fehlend',
  'fileCheck.start': 'Jetzt prüfen',
  'fileCheck.running': 'Wird geprüft…',
  'fileCheck.started': 'Die Prüfung der Backup-Dateien wurde gestartet.',
  'fileCheck.flag.corrupt': 'Datei beschädigt',
  'fileCheck.flag.missing': 'Datei fehlte',
  'fileCheck.flagTitle': 'Dateiprüfung vom {time}: {notes}',
}
