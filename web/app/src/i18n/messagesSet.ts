// UI texts of whole-server targets (database `*`) and their backup sets, in English and German;
// messages.ts merges them.

export const setEn = {
  'set.dbnameHelp': 'One database, or * for every database the user can see.',
  'set.allDatabases': 'every database',
  'set.exclude': 'Leave out',
  'set.excludeHelp':
    'Databases not to back up, comma-separated; * matches any text (test_*, scratch). mysql, information_schema, performance_schema and sys are always left out. The list of databases is taken anew at each backup, so a new database is in the next one.',
  'set.field.dbname': 'Give one database name, or * for every database.',
  'set.field.exclude': 'Only a target of every database (*) leaves some out.',
  'set.field.oneOf': 'Choose one of {names}.',
  'set.field.isSet': 'This backup is a set of several databases.',
  'set.databases': 'Databases',
  'set.databasesCaption': 'The databases of this backup set',
  'set.col.database': 'Database',
  'set.downloadOne': 'Download {database}',
  'set.downloadAll': 'The whole set downloads as one .tar file.',
  'set.restoreSource': 'Database of the set',
  'set.restoreSourceHelp':
    'This backup is a set of several databases; one of them is restored, by default into the database of its own name.',
  'set.restoreOwn': 'Into its own database',
  'set.testDatabases': 'Would back up: {names}',
  'set.testNone': 'Connected, but the user sees no database to back up.',
} as const

export const setDe: Record<keyof typeof setEn, string> = {
  'set.dbnameHelp': 'Eine Datenbank, oder * für jede Datenbank, die der Benutzer sieht.',
  'set.allDatabases': 'alle Datenbanken',
  'set.exclude': 'Auslassen',
  'set.excludeHelp':
    'Datenbanken, die nicht gesichert werden, durch Kommas getrennt; * steht für beliebigen Text (test_*, scratch). mysql, information_schema, performance_schema und sys werden immer ausgelassen. Die Liste der Datenbanken wird bei jedem Backup neu gelesen, eine neue Datenbank ist also im nächsten dabei.',
  'set.field.dbname': 'Einen Datenbanknamen angeben, oder * für jede Datenbank.',
  'set.field.exclude': 'Nur ein Ziel aller Datenbanken (*) lässt welche aus.',
  'set.field.oneOf': 'Eine davon wählen: {names}.',
  'set.field.isSet': 'Dieses Backup ist ein Satz aus mehreren Datenbanken.',
  'set.databases': 'Datenbanken',
  'set.databasesCaption': 'Die Datenbanken dieses Backup-Satzes',
  'set.col.database': 'Datenbank',
  'set.downloadOne': '{database} herunterladen',
  'set.downloadAll': 'Der ganze Satz wird als eine .tar-Datei heruntergeladen.',
  'set.restoreSource': 'Datenbank des Satzes',
  'set.restoreSourceHelp':
    'Dieses Backup ist ein Satz aus mehreren Datenbanken; eine davon wird wiederhergestellt, ohne weitere Wahl in die Datenbank ihres eigenen Namens.',
  'set.restoreOwn': 'In ihre eigene Datenbank',
  'set.testDatabases': 'Würde sichern: {names}',
  'set.testNone': 'Verbunden, aber der Benutzer sieht keine Datenbank zum Sichern.',
}
