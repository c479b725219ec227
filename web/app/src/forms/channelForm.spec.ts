import { describe, expect, it } from 'vitest'
import { DEFAULT_EVENTS, emptyChannelForm, formFromChannel, toChannelInput } from './channelForm'

describe('channel form', () => {
  it('sends only the fields of the chosen kind, and no empty secret', () => {
    const form = emptyChannelForm()
    form.type = 'ntfy'
    form.name = ' phone '
    form.fields.url = 'https://ntfy.example.org'
    form.fields.topic = 'backups'
    form.fields.secret = 'not for ntfy'
    expect(toChannelInput(form)).toEqual({
      type: 'ntfy', name: 'phone', events: DEFAULT_EVENTS, enabled: true,
      url: 'https://ntfy.example.org', topic: 'backups',
    })
  })

  it('turns the SMTP port into a number and keeps a stored password when left empty', () => {
    const form = formFromChannel({
      id: 1, type: 'email', name: 'mail', events: ['backup_failed'], enabled: true, url: null, topic: null,
      smtp_host: 'mail.example.org', smtp_port: 465, smtp_security: 'tls', smtp_user: 'u', mail_from: 'a@example.org',
      mail_to: 'b@example.org', secrets_set: ['smtp_password'], secrets_error: null, created_at: '', updated_at: '',
    })
    const input = toChannelInput(form)
    expect(input.smtp_port).toBe(465)
    expect(input.smtp_security).toBe('tls')
    expect('smtp_password' in input).toBe(false)
  })
})
