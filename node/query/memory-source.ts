/**
 * A query source over instances held in a list (tests, small tools): the study index is built
 * from them as a node builds it from its index on disk, so queries run the same code either way.
 */
import type { StudyId } from '../../protocol/study-id.ts'
import { studyAttributesOf } from '../archive/index-layout.ts'
import type { CatalogInstance } from './attributes.ts'
import type { QuerySource } from './query.ts'
import { StudyIndex } from './study-index.ts'

export function memorySource (instances: Iterable<CatalogInstance>): QuerySource {
  const studies = new StudyIndex()
  const byStudy = new Map<StudyId, CatalogInstance[]>()
  const bySop = new Map<string, StudyId>()
  for (const instance of instances) {
    const held = byStudy.get(instance.storedIn)
    if (held === undefined) byStudy.set(instance.storedIn, [instance])
    else held.push(instance)
    bySop.set(instance.sopInstanceUid, instance.storedIn)
    studies.addInstance(instance.storedIn, studies.byId(instance.storedIn)?.attributes ?? studyAttributesOf(instance), instance)
  }
  return {
    studies,
    instancesOf: async (entry) => byStudy.get(entry.storedIn) ?? [],
    studyOfInstance: async (uid) => bySop.get(uid)
  }
}
