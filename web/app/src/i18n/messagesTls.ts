// UI texts of the target's TLS settings in English and German; messages.ts merges them.

export const tlsEn = {
  'tls.legend': 'TLS to the database server',
  'tls.mode': 'Encryption',
  'tls.mode.disabled': 'Off (never use TLS)',
  'tls.mode.preferred': 'When offered (default)',
  'tls.mode.required': 'Required, certificate not checked',
  'tls.mode.verify-ca': 'Required, certificate signed by the CA below',
  'tls.mode.verify-identity': 'Required, CA and host name checked',
  'tls.ca': 'CA certificate (PEM)',
  'tls.cert': 'Client certificate (PEM, optional)',
  'tls.key': 'Client key (PEM, optional)',
  'tls.pemHelp': 'Paste the -----BEGIN CERTIFICATE----- block.',
  'tls.keyHelp': 'Stored encrypted and never shown again; leave empty to keep a stored key.',
  'report.tls': 'encrypted ({version}, {cipher})',
  'report.plain': 'not encrypted',
} as const

export const tlsDe: Record<keyof typeof tlsEn, string> = {
  'tls.legend': 'TLS zum Datenbankserver',
  'tls.mode': 'Verschlüsselung',
  'tls.mode.disabled': 'Aus (nie TLS)',
  'tls.mode.preferred': 'Wenn angeboten (Standard)',
  'tls.mode.required': 'Erforderlich, Zertifikat ungeprüft',
  'tls.mode.verify-ca': 'Erforderlich, Zertifikat von der CA unten signiert',
  'tls.mode.verify-identity': 'Erforderlich, CA und Hostname geprüft',
  'tls.ca': 'CA-Zertifikat (PEM)',
  'tls.cert': 'Client-Zertifikat (PEM, optional)',
  'tls.key': 'Client-Schlüssel (PEM, optional)',
  'tls.pemHelp': 'Den Block -----BEGIN CERTIFICATE----- einfügen.',
  'tls.keyHelp': 'Wird verschlüsselt gespeichert und nie wieder angezeigt; leer lassen, um einen gespeicherten Schlüssel zu behalten.',
  'report.tls': 'verschlüsselt ({version}, {cipher})',
  'report.plain': 'nicht verschlüsselt',
}
