/**
 * A study's summary record: what the study index (query/study-index.ts) holds of a study beyond
 * its study record — how many instances it has, its series, modalities and SOP classes, and how
 * many instances of each SOP class are stored in each transfer syntax — so a node starts without
 * opening every instance record. It lives under keys.studySummary(studyId), sealed with the
 * study's record key like the study and instance records (series UIDs never rest in clear), and
 * encoded as canonical CBOR:
 *   { instances: int, series: [uid...], modalities: [cs...], sopClasses: [uid...], syntaxes: [[sopClass, ts, n]...] }
 * It is a cache: the instance records stay the truth. Pacs writes it after each ingest and adopt,
 * and at start trusts it only when it names as many instances as the study has records;
 * otherwise (an import made without the node, a crash before the summary was written, an index
 * rebuilt or repaired) the study is summarised again from its records and the record rewritten.
 */
import { asMap, decodeCanonical, encodeCanonical, intField, type CanonicalMap, type CanonicalValue } from '../../protocol/canonical.ts'
import { DecodeError, PeerpacsError } from '../../protocol/errors.ts'
import type { Archive, StudyContext } from '../archive/archive.ts'
import { openInstanceEntry } from '../archive/catalogue.ts'
import { IndexDamagedError } from '../archive/errors.ts'
import { keys } from '../archive/index-layout.ts'
import type { InstanceFacts, StudyFacts } from '../query/study-index.ts'
import type { KvOperation } from '../store/kv.ts'

const WHAT = 'study summary'

export function encodeStudyFacts (facts: StudyFacts): Uint8Array {
  return encodeCanonical({
    instances: facts.instances,
    series: [...facts.series],
    modalities: [...facts.modalities],
    sopClasses: [...facts.sopClasses],
    syntaxes: facts.syntaxes.map(([sopClass, ts, n]) => [sopClass, ts, n])
  })
}

function texts (map: CanonicalMap, key: string): string[] {
  const value = map[key]
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new DecodeError(`${WHAT}.${key}: expected a list of text`)
  return value as string[]
}

export function decodeStudyFacts (bytes: Uint8Array): StudyFacts {
  const map = asMap(decodeCanonical(bytes, 16 << 20), WHAT)
  const syntaxes = map.syntaxes
  const triple = (v: CanonicalValue): v is [string, string, number] => Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'string' &&
    typeof v[2] === 'number' && Number.isSafeInteger(v[2]) && v[2] > 0
  if (!Array.isArray(syntaxes) || !syntaxes.every(triple)) throw new DecodeError(`${WHAT}.syntaxes: expected a list of [SOP class, transfer syntax, count]`)
  return { instances: intField(map, 'instances', WHAT), series: texts(map, 'series'), modalities: texts(map, 'modalities'), sopClasses: texts(map, 'sopClasses'), syntaxes }
}

/** Facts being gathered: from a study's records, or a summary plus the instances added since. */
export class FactsBuilder {
  instances = 0
  readonly #series = new Set<string>()
  readonly #modalities = new Set<string>()
  readonly #sopClasses = new Set<string>()
  readonly #syntaxes = new Map<string, number>()

  constructor (from?: StudyFacts) {
    if (from === undefined) return
    this.instances = from.instances
    for (const s of from.series) this.#series.add(s)
    for (const m of from.modalities) this.#modalities.add(m)
    for (const c of from.sopClasses) this.#sopClasses.add(c)
    for (const [c, ts, n] of from.syntaxes) this.#syntaxes.set(`${c}\u0000${ts}`, n)
  }

  add (i: InstanceFacts): void {
    this.instances++
    this.#series.add(i.seriesInstanceUid)
    if (i.modality !== undefined && i.modality !== '') this.#modalities.add(i.modality)
    this.#sopClasses.add(i.sopClassUid)
    const k = `${i.sopClassUid}\u0000${i.transferSyntaxUid}`
    this.#syntaxes.set(k, (this.#syntaxes.get(k) ?? 0) + 1)
  }

  facts (): StudyFacts {
    return {
      instances: this.instances,
      series: [...this.#series].sort(),
      modalities: [...this.#modalities].sort(),
      sopClasses: [...this.#sopClasses].sort(),
      syntaxes: [...this.#syntaxes].sort(([a], [b]) => a < b ? -1 : 1).map(([k, n]) => {
        const [c, ts] = k.split('\u0000') as [string, string]
        return [c, ts, n] as const
      })
    }
  }
}

/** A sealed summary opened, or undefined when it does not open (it is then made again). */
export function openSummary (archive: Archive, study: StudyContext, sealed: Uint8Array): StudyFacts | undefined {
  try {
    return decodeStudyFacts(archive.openRecord(study, keys.studySummary(study.studyId), sealed))
  } catch (error) {
    if (!(error instanceof PeerpacsError)) throw error
    return undefined
  }
}

/** The study's stored summary, or undefined when there is none or it does not open. */
export async function readSummary (archive: Archive, study: StudyContext): Promise<StudyFacts | undefined> {
  const sealed = await archive.kv.get(keys.studySummary(study.studyId))
  return sealed === undefined ? undefined : openSummary(archive, study, sealed)
}

/** The index write that stores a study's summary, sealed. */
export function summaryWrite (archive: Archive, study: StudyContext, facts: StudyFacts): KvOperation {
  const key = keys.studySummary(study.studyId)
  return { type: 'put', key, value: archive.sealRecord(study, key, encodeStudyFacts(facts)) }
}

/** A study summarised from its instance records; records that do not open are named, not counted. */
export async function summarise (archive: Archive, study: StudyContext): Promise<{ facts: StudyFacts, unreadable: string[] }> {
  const builder = new FactsBuilder()
  const unreadable: string[] = []
  for await (const [key, value] of archive.kv.entries(keys.instancesOf(study.studyId))) {
    try {
      builder.add(openInstanceEntry(archive, study, key, value).attributes)
    } catch (error) {
      if (!(error instanceof IndexDamagedError)) throw error
      unreadable.push(error.message)
    }
  }
  return { facts: builder.facts(), unreadable }
}
