/**
 * `npm start`, until the node has a daemon (`peerpacs start`): makes sure ./data (or
 * $PEERPACS_DATA) is a data dir, generates a small synthetic sample study into ./sample (or
 * $PEERPACS_SAMPLE), imports it, and lists the studies. Running it again changes nothing: the
 * import finds duplicates.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { main } from '../node/cli/main.ts'
import { syntheticStudy, KNOWN_PATIENTS } from '../test/synthetic/study.ts'

process.umask(0o077)
const data = process.env.PEERPACS_DATA ?? './data'
const sample = process.env.PEERPACS_SAMPLE ?? './sample'

if (!existsSync(join(data, 'peerpacs.json'))) {
  const code = await main(['init', '--data', data, '--name', 'peerpacs quick start'])
  if (code !== 0) process.exit(code)
}
if (!existsSync(sample)) {
  for (const instance of syntheticStudy({ seed: 1, patient: KNOWN_PATIENTS[0], profile: 'mixed', folder: 'study-1' })) {
    const path = join(sample, instance.relativePath)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, instance.bytes)
  }
  console.log(`\nGenerated a synthetic sample study in ${sample}`)
}
let code = await main(['import', '--data', data, sample])
if (code === 0) code = await main(['studies', '--data', data])
if (code === 0) console.log(`\nNext: node node/cli/main.ts export --data ${data} STUDY_INSTANCE_UID ./exported   (or: npx peerpacs --help)`)
process.exitCode = code
