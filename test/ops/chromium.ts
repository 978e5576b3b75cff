/**
 * How the ops tests and the screenshot script start Chromium: Debian's
 * binary (never a downloaded one), headless, with everything that would
 * phone home or fetch updates turned off.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
