// UI texts of uploads (a dump file from elsewhere becomes a backup) and of adopting a file found
// in the backup folder, in English and German; messages.ts merges them.

export const uploadEn = {
  'trigger.upload': 'upload',
  'upload.title': 'Upload a dump file',
  'upload.help':
    'A .sql, .sql.gz, .sql.bz2, .sql.xz or .zip file from dumper, mariadb-dump, mysqldump, phpMyAdmin, Adminer or MySQLDumper. It is checked as a whole before it becomes a backup of this target.',
  'upload.drop': 'Drop a dump file on this page, or',
  'upload.choose': 'choose a file',
  'upload.dropActive': 'Drop the file to upload it',
  'upload.progress': 'Uploading {file}: {sent} of {total}',
  'upload.checking': 'Checking {file}…',
  'upload.cancel': 'Cancel upload',
  'upload.cancelled': 'The upload of {file} was cancelled; nothing was kept.',
  'upload.done': '{file} uploaded and checked: it is a backup of this target now.',
  'upload.failed': '{file} was not kept: {reason}',
  'upload.one': 'Drop one file at a time.',
  'upload.tooLarge': 'The file is larger than the server accepts (UPLOAD_MAX_BYTES = {limit} bytes).',
  'error.length_required': 'The server needs to know the size of the upload first.',
  'adopt.target': 'Target',
  'adopt.choose': 'Choose a target',
  'adopt.action': 'Make it a backup',
  'adopt.actionLabel': 'Make it a backup: {file}',
  'adopt.help':
    'A file can become a backup of a target, where it is (it is not copied): it is checked as a whole first.',
  'adopt.done': '{file} is a backup of {target} now.',
  'adopt.noTargets': 'Create a target first to give these files to one.',
} as const

export const uploadDe: Record<keyof typeof uploadEn, string> = {
  'trigger.upload': 'hochgeladen',
  'upload.title': 'Dump-Datei hochladen',
  'upload.help':
    'Eine .sql-, .sql.gz-, .sql.bz2-, .sql.xz- oder .zip-Datei von dumper, mariadb-dump, mysqldump, phpMyAdmin, Adminer oder MySQLDumper. Sie wird als Ganzes geprüft, bevor sie ein Backup dieses Ziels wird.',
  'upload.drop': 'Dump-Datei auf dieser Seite ablegen, oder',
  'upload.choose': 'Datei auswählen',
  'upload.dropActive': 'Datei ablegen, um sie hochzuladen',
  'upload.progress': '{file} wird hochgeladen: {sent} von {total}',
  'upload.checking': '{file} wird geprüft…',
  'upload.cancel': 'Hochladen abbrechen',
  'upload.cancelled': 'Das Hochladen von {file} wurde abgebrochen; nichts wurde behalten.',
  'upload.done': '{file} hochgeladen und geprüft: jetzt ein Backup dieses Ziels.',
  'upload.failed': '{file} wurde nicht behalten: {reason}',
  'upload.one': 'Bitte nur eine Datei auf einmal ablegen.',
  'upload.tooLarge': 'Die Datei ist größer, als der Server annimmt (UPLOAD_MAX_BYTES = {limit} Bytes).',
  'error.length_required': 'Der Server muss die Größe des Uploads vorher kennen.',
  'adopt.target': 'Ziel',
  'adopt.choose': 'Ziel wählen',
  'adopt.action': 'Zum Backup machen',
  'adopt.actionLabel': 'Zum Backup machen: {file}',
  'adopt.help':
    'Eine Datei kann ein Backup eines Ziels werden, dort wo sie liegt (sie wird nicht kopiert): vorher wird sie als Ganzes geprüft.',
  'adopt.done': '{file} ist jetzt ein Backup von {target}.',
  'adopt.noTargets': 'Lege zuerst ein Ziel an, um ihm diese Dateien zu geben.',
}
