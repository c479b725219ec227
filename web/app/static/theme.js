// Applies the remembered theme before the first paint (a file, not inline: the server's CSP forbids inline scripts).
try {
  var t = localStorage.getItem('dumper.theme')
  if (t !== 'light' && t !== 'dark') t = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
  document.documentElement.setAttribute('data-theme', t)
} catch (e) {}
