// UI texts of encrypted backups (age) in English and German; messages.ts merges them.

export const ageEn = {
  'encryption.legend': 'Encryption',
  'encryption.mode': 'Encrypt backups',
  'encryption.mode.off': 'off',
  'encryption.mode.recipient': 'to an age public key (recommended)',
  'encryption.mode.passphrase': 'with a passphrase',
  'encryption.help':
    'Encrypted backups (.sql.gz.age) are unreadable to whoever gets the backup folder. A lost private key or passphrase means lost backups: nothing can decrypt them without it.',
  'encryption.recipient': 'age public key (age1…)',
  'encryption.recipientHelp':
    'Create a key pair with `dumper keygen --age` or `age-keygen`, paste the public key here and keep the private key (AGE-SECRET-KEY-1…) offline. The service never sees it.',
  'encryption.passphrase': 'Passphrase',
  'encryption.passphraseHelp':
    'At least 12 characters, stored encrypted. The service can read these backups itself, so can whoever has its database and APP_ENC_KEY.',
  'encryption.passphraseKeep': 'Leave empty to keep the stored passphrase.',
  'encryption.key': 'Key of this encrypted backup',
  'encryption.keyHelp':
    'Paste the private key (the AGE-SECRET-KEY-1… line or the whole key file) or the passphrase. It is used for this operation only and never stored.',
  'encryption.keyOptional':
    'Leave empty to use the target’s stored passphrase; a backup made with an earlier passphrase needs that one.',
  'encryption.verifyTitle': 'Verify encrypted backup {file}',
  'encryption.verifyText':
    'A test restore into a scratch database needs the backup’s key. Without it, only the file’s structure and its recorded sha256 are checked.',
  'encryption.verifyConfirm': 'Verify',
  'encryption.tablesWhole': 'An encrypted backup is restored whole: its table list needs the key.',
  'error.key_required': 'This backup is encrypted: its identity or passphrase is needed. {detail}',
  'encryption.error.required': 'This backup is encrypted: give its private key (AGE-SECRET-KEY-1…) or passphrase.',
  'encryption.error.noMatch': 'The key or passphrase given does not open this backup.',
  'encryption.error.checkedWithoutKey':
    'The encrypted file is whole as far as can be seen without its key ({chunks} chunks, the recorded sha256 matches); the test restore needs its key or passphrase.',
  'encryption.error.checkedStructure':
    'The encrypted files are whole as far as can be seen without the key ({chunks} chunks checked); the test restore needs its key or passphrase.',
  'encryption.field.noMatch': 'does not open this backup',
  'encryption.field.recipient': 'must be an age public key (age1…)',
  'encryption.field.noVerifyAfter':
    'cannot be on with a public key: only its private key, kept offline, reads the backups',
  'encryption.field.passphraseRequired': 'is required for passphrase encryption',
  'encryption.field.passphraseShort': 'must be at least {min} characters',
  'encryption.field.both': 'give a key or a passphrase, not both',
} as const

export const ageDe: Record<keyof typeof ageEn, string> = {
  'encryption.legend': 'Verschlüsselung',
  'encryption.mode': 'Backups verschlüsseln',
  'encryption.mode.off': 'aus',
  'encryption.mode.recipient': 'für einen age-Schlüssel (empfohlen)',
  'encryption.mode.passphrase': 'mit einer Passphrase',
  'encryption.help':
    'Verschlüsselte Backups (.sql.gz.age) kann niemand lesen, der an den Backup-Ordner kommt. Ein verlorener privater Schlüssel oder eine vergessene Passphrase bedeutet verlorene Backups: ohne sie lässt sich nichts entschlüsseln.',
  'encryption.recipient': 'Öffentlicher age-Schlüssel (age1…)',
  'encryption.recipientHelp':
    'Ein Schlüsselpaar mit `dumper keygen --age` oder `age-keygen` erzeugen, den öffentlichen Schlüssel hier einfügen und den privaten (AGE-SECRET-KEY-1…) offline aufbewahren. Der Dienst sieht ihn nie.',
  'encryption.passphrase': 'Passphrase',
  'encryption.passphraseHelp':
    'Mindestens 12 Zeichen, verschlüsselt gespeichert. Der Dienst kann diese Backups selbst lesen, ebenso wer seine Datenbank und APP_ENC_KEY hat.',
  'encryption.passphraseKeep': 'Leer lassen, um die gespeicherte Passphrase zu behalten.',
  'encryption.key': 'Schlüssel dieses verschlüsselten Backups',
  'encryption.keyHelp':
    'Den privaten Schlüssel (die Zeile AGE-SECRET-KEY-1… oder die ganze Schlüsseldatei) oder die Passphrase einfügen. Er wird nur für diesen Vorgang verwendet und nie gespeichert.',
  'encryption.keyOptional':
    'Leer lassen, um die gespeicherte Passphrase des Ziels zu verwenden; ein Backup mit einer früheren Passphrase braucht diese.',
  'encryption.verifyTitle': 'Verschlüsseltes Backup {file} prüfen',
  'encryption.verifyText':
    'Eine Test-Wiederherstellung in eine Hilfsdatenbank braucht den Schlüssel des Backups. Ohne ihn werden nur der Aufbau der Datei und ihre gespeicherte sha256 geprüft.',
  'encryption.verifyConfirm': 'Prüfen',
  'encryption.tablesWhole': 'Ein verschlüsseltes Backup wird vollständig wiederhergestellt: seine Tabellenliste braucht den Schlüssel.',
  'error.key_required': 'Dieses Backup ist verschlüsselt: sein Schlüssel oder seine Passphrase wird gebraucht. {detail}',
  'encryption.error.required':
    'Dieses Backup ist verschlüsselt: seinen privaten Schlüssel (AGE-SECRET-KEY-1…) oder seine Passphrase angeben.',
  'encryption.error.noMatch': 'Der angegebene Schlüssel oder die Passphrase öffnet dieses Backup nicht.',
  'encryption.error.checkedWithoutKey':
    'Die verschlüsselte Datei ist, soweit ohne Schlüssel erkennbar, vollständig ({chunks} Blöcke, die gespeicherte sha256 stimmt); die Test-Wiederherstellung braucht den Schlüssel oder die Passphrase.',
  'encryption.error.checkedStructure':
    'Die verschlüsselten Dateien sind, soweit ohne Schlüssel erkennbar, vollständig ({chunks} Blöcke geprüft); die Test-Wiederherstellung braucht den Schlüssel oder die Passphrase.',
  'encryption.field.noMatch': 'öffnet dieses Backup nicht',
  'encryption.field.recipient': 'muss ein öffentlicher age-Schlüssel sein (age1…)',
  'encryption.field.noVerifyAfter':
    'geht nicht mit einem öffentlichen Schlüssel: nur der offline aufbewahrte private Schlüssel liest die Backups',
  'encryption.field.passphraseRequired': 'wird für die Verschlüsselung mit Passphrase gebraucht',
  'encryption.field.passphraseShort': 'muss mindestens {min} Zeichen lang sein',
  'encryption.field.both': 'Schlüssel oder Passphrase angeben, nicht beides',
}
