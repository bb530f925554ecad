/**
 * Escaping for the XML export. Text from outside (a patient name, a user id, a query) may hold
 * markup characters and control characters; the output must stay well-formed XML 1.0 whatever
 * arrives. Markup characters become entity or character references. Characters XML 1.0 cannot
 * carry at all, not even as references (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF;
 * lone surrogates), become U+FFFD: the export is lossy there, the sealed record keeps the original.
 * Tab, LF and CR become character references, so attribute-value normalization does not turn
 * them into spaces and the message stays on one line. DEL, C1 controls, the Unicode line and
 * paragraph separators and the bidirectional controls become character references too: legal,
 * but a line splitter or a terminal showing the export to an auditor would act on them.
 */

// XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

const REFERENCES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;'
}

/** DEL and C1 controls, line and paragraph separators, bidirectional marks, embeddings, overrides and isolates. */
export const INVISIBLE_CONTROLS = /[\u007F-\u009F\u2028\u2029\u200E\u200F\u202A-\u202E\u2066-\u2069]/g

function escape (value: string): string {
  return value
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/[&<>"'\t\n\r]/g, (c) => REFERENCES[c]!)
    .replace(INVISIBLE_CONTROLS, (c) => `&#${c.charCodeAt(0)};`)
}

/** For a double-quoted attribute value. */
export function escapeAttribute (value: string): string {
  return escape(value)
}

/** For element content (the same escaping: quotes are harmless there, and one rule is easier to check). */
export function escapeText (value: string): string {
  return escape(value)
}
