/**
 * A small strict XML 1.0 reader for the tests: it accepts only well-formed documents (one root,
 * matched tags, unique attributes, quoted values without '<', only the five predefined entities
 * and character references to legal characters, legal characters only, no ']]>' in text) and
 * returns the element tree, so tests can check structure. It does not know DTDs, comments,
 * processing instructions or CDATA: the audit export writes none, so any of them is an error.
 */
export interface XmlElement {
  name: string
  attributes: Map<string, string>
  children: XmlElement[]
  text: string
}

const NAME = /^[A-Za-z_][A-Za-z0-9._:-]*/
const CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function isXmlChar (cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
}

function unescape (raw: string, where: string): string {
  return raw.replace(/&([^;]*);|&/g, (match, body: string | undefined) => {
    if (body === undefined) throw new Error(`${where}: bare '&'`)
    if (Object.hasOwn(ENTITIES, body)) return ENTITIES[body]!
    const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body)
    if (m === null) throw new Error(`${where}: unknown reference ${match}`)
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10)
    if (!isXmlChar(cp)) throw new Error(`${where}: reference ${match} is not a legal XML character`)
    return String.fromCodePoint(cp)
  })
}

export function parseXml (xml: string): XmlElement {
  if (!CHAR.test(xml)) throw new Error('document holds a character XML 1.0 does not allow')
  let i = 0
  const skipSpace = (): void => { while (i < xml.length && /[ \t\r\n]/.test(xml[i]!)) i++ }
  const name = (where: string): string => {
    const m = NAME.exec(xml.slice(i))
    if (m === null) throw new Error(`${where}: expected a name at ${i}`)
    i += m[0].length
    return m[0]
  }

  function element (): XmlElement {
    if (xml[i] !== '<') throw new Error(`expected '<' at ${i}`)
    i++
    const el: XmlElement = { name: name('start tag'), attributes: new Map(), children: [], text: '' }
    for (;;) {
      const before = i
      skipSpace()
      if (xml.startsWith('/>', i)) { i += 2; return el }
      if (xml[i] === '>') { i++; break }
      if (i === before) throw new Error(`<${el.name}>: expected whitespace before an attribute at ${i}`)
      const key = name(`<${el.name}> attribute`)
      skipSpace()
      if (xml[i] !== '=') throw new Error(`<${el.name} ${key}>: expected '='`)
      i++
      skipSpace()
      const quote = xml[i]
      if (quote !== '"' && quote !== "'") throw new Error(`<${el.name} ${key}>: value is not quoted`)
      const end = xml.indexOf(quote, i + 1)
      if (end < 0) throw new Error(`<${el.name} ${key}>: unterminated value`)
      const raw = xml.slice(i + 1, end)
      if (raw.includes('<')) throw new Error(`<${el.name} ${key}>: '<' in an attribute value`)
      if (el.attributes.has(key)) throw new Error(`<${el.name}>: attribute ${key} appears twice`)
      el.attributes.set(key, unescape(raw, `<${el.name} ${key}>`))
      i = end + 1
    }
    for (;;) {
      const next = xml.indexOf('<', i)
      if (next < 0) throw new Error(`<${el.name}>: not closed`)
      const raw = xml.slice(i, next)
      if (raw.includes(']]>')) throw new Error(`<${el.name}>: ']]>' in text`)
      el.text += unescape(raw, `<${el.name}> text`)
      i = next
      if (xml.startsWith('</', i)) {
        i += 2
        const closing = name('end tag')
        if (closing !== el.name) throw new Error(`</${closing}> closes <${el.name}>`)
        skipSpace()
        if (xml[i] !== '>') throw new Error(`</${closing}>: expected '>'`)
        i++
        return el
      }
      if (xml.startsWith('<!', i) || xml.startsWith('<?', i)) throw new Error(`<${el.name}>: comments, CDATA and processing instructions are not expected`)
      el.children.push(element())
    }
  }

  skipSpace()
  const root = element()
  skipSpace()
  if (i !== xml.length) throw new Error(`content after the root element at ${i}`)
  return root
}

export function childrenNamed (el: XmlElement, name: string): XmlElement[] {
  return el.children.filter(c => c.name === name)
}
