/** What `peerpacs studies` does (its options and help: commands/studies.ts). */
import { listStudies } from '../../archive/catalogue.ts'
import { nodeSource, queryEvent, STUDY_ROOT_FIND } from '../../../protocol/audit/index.ts'
import { utf8Encode } from '../../../protocol/bytes.ts'
import { cliUser, thisNode } from '../../audit/actors.ts'
import { EXIT } from '../exit-codes.ts'
import { withArchive } from '../open-archive.ts'
import { formatTable } from '../output.ts'
import type { CommandContext } from '../command.ts'

function formatDate (date: string | undefined): string {
  return date !== undefined && /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : (date ?? '')
}

export async function run (context: CommandContext): Promise<number> {
  const { out } = context
  return await withArchive(context, 'studies', 'required', async (archive) => {
    const { studies: list, unreadable } = await listStudies(archive)
    // Listing shows patients: a 110112 Query by whoever ran it.
    await archive.auditor.record(queryEvent({
      time: Date.now(), source: nodeSource(archive.keyring.nodeId), from: cliUser(), to: thisNode(archive.keyring.nodeId),
      sopClassUid: STUDY_ROOT_FIND, query: utf8Encode('peerpacs studies')
    }))
    for (const study of list) out.record({ type: 'study', ...study })
    for (const problem of unreadable) {
      out.record({ type: 'unreadable', ...problem })
      out.warn(`${problem.message} — run \`peerpacs fsck\``)
    }
    if (list.length === 0) {
      out.line(unreadable.length === 0 ? 'No studies yet. Import some with `peerpacs import PATH`.' : 'No readable studies.')
      return unreadable.length === 0 ? EXIT.OK : EXIT.PROBLEMS
    }
    const rows = [['PATIENT', 'PATIENT ID', 'DATE', 'DESCRIPTION', 'MODALITIES', 'SERIES', 'INSTANCES', 'STUDY INSTANCE UID']]
    for (const s of list) {
      rows.push([s.patientName ?? '', s.patientId ?? '', formatDate(s.studyDate), s.studyDescription ?? '', s.modalities.join(','), String(s.series), String(s.instances), s.studyInstanceUid])
    }
    for (const line of formatTable(rows)) out.line(line)
    return unreadable.length === 0 ? EXIT.OK : EXIT.PROBLEMS
  })
}
