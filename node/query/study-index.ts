/**
 * The compact study-level query index a running node holds in memory: one small entry per study
 * (its study record's attributes, the distinct modalities, SOP classes and series of its
 * instances, and how many instances it has), plus how many instances of each SOP class are
 * stored in each transfer syntax (what a C-GET's syntax choice weighs). Nothing here grows with
 * the number of instances: series and instance rows are read from the index on disk, one study
 * at a time (query.ts). Short repeated strings and lists are shared between entries.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import { STUDY_FIELDS, type StudyAttributes } from '../archive/index-layout.ts'
import type { StudyEntry } from './attributes.ts'

/** What one instance adds to its study's entry. */
export interface InstanceFacts {
  readonly seriesInstanceUid: string
  readonly modality?: string | undefined
  readonly sopClassUid: string
  readonly transferSyntaxUid: string
}

/** A study's entry without its attributes, and its syntax counts: what a summary record keeps. */
export interface StudyFacts {
  readonly modalities: readonly string[]
  readonly sopClasses: readonly string[]
  readonly series: readonly string[]
  readonly instances: number
  /** [SOP class, transfer syntax, instances]. */
  readonly syntaxes: ReadonlyArray<readonly [string, string, number]>
}

interface Held extends StudyEntry {
  modalities: readonly string[]
  sopClasses: readonly string[]
  series: readonly string[]
  instances: number
  /** SOP class, transfer syntax, instances: what the study adds to the syntax counts. */
  syntaxes: Array<[string, string, number]>
}

/**
 * The attributes with every study field present (undefined when absent), in one order: objects
 * of one shape, so the hot loop of a study query reads them monomorphically (objects of many
 * shapes made each read several times slower, measured over 50,000 studies).
 */
function uniform (a: StudyAttributes): StudyAttributes {
  const out: Record<string, unknown> = {}
  for (const field of STUDY_FIELDS) out[field] = (a as Record<string, unknown>)[field]
  return out as unknown as StudyAttributes
}

export class StudyIndex {
  readonly #byId = new Map<StudyId, Held>()
  /** The same entries in an array: a study query walks it (an array is walked faster than a map). */
  readonly #all: Held[] = []
  readonly #byUid = new Map<string, Held>()
  /** SOP class → transfer syntax → instances stored. */
  readonly #syntaxes = new Map<string, Map<string, number>>()
  readonly #strings = new Map<string, string>()
  readonly #lists = new Map<string, readonly string[]>()
  #instances = 0

  get studyCount (): number { return this.#byId.size }
  get instanceCount (): number { return this.#instances }

  entries (): readonly StudyEntry[] { return this.#all }
  byId (id: StudyId): StudyEntry | undefined { return this.#byId.get(id) }
  byUid (studyInstanceUid: string): StudyEntry | undefined { return this.#byUid.get(studyInstanceUid) }

  /** What the index holds of one study, as a summary keeps it (index-snapshot.ts writes them all). */
  facts (id: StudyId): StudyFacts | undefined {
    const e = this.#byId.get(id)
    if (e === undefined) return undefined
    return { instances: e.instances, series: e.series, modalities: e.modalities, sopClasses: e.sopClasses, syntaxes: e.syntaxes.map(([c, ts, n]) => [c, ts, n] as const) }
  }

  /** Transfer syntax → instances stored, for one SOP class. */
  syntaxCounts (sopClassUid: string): ReadonlyMap<string, number> {
    return this.#syntaxes.get(sopClassUid) ?? new Map()
  }

  clear (): void {
    this.#byId.clear()
    this.#all.length = 0
    this.#byUid.clear()
    this.#syntaxes.clear()
    this.#instances = 0
  }

  /** One newly stored instance of study `id` (whose record holds `attributes`). */
  addInstance (id: StudyId, attributes: StudyAttributes, instance: InstanceFacts): void {
    const entry = this.#entry(id, attributes)
    entry.instances++
    this.#instances++
    entry.series = this.#with(entry.series, instance.seriesInstanceUid, false)
    entry.sopClasses = this.#with(entry.sopClasses, instance.sopClassUid, true)
    if (instance.modality !== undefined && instance.modality !== '') entry.modalities = this.#with(entry.modalities, instance.modality, true)
    this.#count(instance.sopClassUid, instance.transferSyntaxUid, 1)
    this.#countIn(entry, instance.sopClassUid, instance.transferSyntaxUid, 1)
  }

  /** A whole study at once, from its summary: at load, once per study. */
  addStudy (id: StudyId, attributes: StudyAttributes, facts: StudyFacts): void {
    const entry = this.#entry(id, attributes)
    entry.instances += facts.instances
    this.#instances += facts.instances
    entry.series = this.#list([...entry.series, ...facts.series], false)
    entry.sopClasses = this.#list([...entry.sopClasses, ...facts.sopClasses], true)
    entry.modalities = this.#list([...entry.modalities, ...facts.modalities], true)
    for (const [sopClass, syntax, n] of facts.syntaxes) {
      this.#count(sopClass, syntax, n)
      this.#countIn(entry, sopClass, syntax, n)
    }
  }

  #countIn (entry: Held, sopClass: string, syntax: string, n: number): void {
    const held = entry.syntaxes.find(([c, ts]) => c === sopClass && ts === syntax)
    if (held !== undefined) held[2] += n
    else entry.syntaxes.push([this.#string(sopClass), this.#string(syntax), n])
  }

  #entry (id: StudyId, attributes: StudyAttributes): Held {
    let entry = this.#byId.get(id)
    if (entry === undefined) {
      entry = { storedIn: id, attributes: uniform(attributes), modalities: [], sopClasses: [], series: [], instances: 0, syntaxes: [] }
      this.#byId.set(id, entry)
      this.#all.push(entry)
      this.#byUid.set(attributes.studyInstanceUid, entry)
    }
    return entry
  }

  #count (sopClass: string, syntax: string, n: number): void {
    let bySyntax = this.#syntaxes.get(sopClass)
    if (bySyntax === undefined) this.#syntaxes.set(this.#string(sopClass), bySyntax = new Map())
    const next = (bySyntax.get(syntax) ?? 0) + n
    if (next > 0) bySyntax.set(this.#string(syntax), next)
    else bySyntax.delete(syntax)
  }

  #string (s: string): string {
    const held = this.#strings.get(s)
    if (held !== undefined) return held
    // Only a bounded number of distinct strings is shared: beyond it, values are kept as they come.
    if (this.#strings.size < 200_000) this.#strings.set(s, s)
    return s
  }

  /** `list` with `value` added, sorted; the same array when already there. */
  #with (list: readonly string[], value: string, shared: boolean): readonly string[] {
    if (list.includes(value)) return list
    return this.#list([...list, value], shared)
  }

  /** Sorted and distinct; lists of modalities and SOP classes are shared (series lists are per study). */
  #list (values: string[], shared: boolean): readonly string[] {
    const sorted = [...new Set(values)].sort()
    if (shared && sorted.length > 0) {
      const key = sorted.join('\\')
      const held = this.#lists.get(key)
      if (held !== undefined) return held
      const frozen = Object.freeze(sorted.map((v) => this.#string(v)))
      if (this.#lists.size < 10_000) this.#lists.set(key, frozen)
      return frozen
    }
    return sorted
  }
}
