/**
 * The QR code of a TOTP enrolment URI (otpauth://...), for a phone's authenticator app to scan:
 * an SVG for the viewer's enrolment page, and text for the CLI. Encoding is the `qrcode`
 * package's (ISO/IEC 18004: segment modes, version choice, masks, Reed-Solomon), error
 * correction level M, the 4-module quiet zone the standard asks for in the SVG.
 *
 * The URI holds the TOTP secret: the caller shows the result to the person enrolling and
 * nowhere else (no log line, no file).
 */
import { describe } from '../../protocol/bytes.ts'
import { InvalidArgumentError } from '../../protocol/errors.ts'

const ERROR_CORRECTION = 'M'
/** Loaded at the first enrolment: ~7 MB of resident memory a node need not hold until then. */
const qrcode = async (): Promise<typeof import('qrcode')> => (await import('qrcode')).default
/** Version 40 at level M holds 2331 bytes; an otpauth URI is about 150. */
const MAX_TEXT = 1024

function expectText (text: unknown, name: string): string {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) {
    throw new InvalidArgumentError(`${name}: expected text of 1 to ${MAX_TEXT} characters, got ${describe(text)}`)
  }
  return text
}

/** A standalone SVG (black on white, 4-module quiet zone) that scales to any size. */
export async function qrSvg (text: string): Promise<string> {
  return await (await qrcode()).toString(expectText(text, 'qrSvg(text)'), { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: 4 })
}

/**
 * The code as UTF-8 half blocks (two modules a character row) for a terminal. By default the
 * lines carry ANSI colours, black on white, so it scans on a dark or a light terminal theme;
 * `{ ansi: false }` gives the bare blocks (dark modules as ink, for a light background or a
 * file), with a 2-module quiet zone.
 */
export async function qrTerminal (text: string, options: { ansi?: boolean } = {}): Promise<string> {
  const value = expectText(text, 'qrTerminal(text)')
  const QRCode = await qrcode()
  if (options.ansi === false) return await QRCode.toString(value, { type: 'utf8', errorCorrectionLevel: ERROR_CORRECTION, margin: 2 })
  return await QRCode.toString(value, { type: 'terminal', small: true, errorCorrectionLevel: ERROR_CORRECTION })
}
