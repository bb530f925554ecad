/**
 * `npm start`: makes sure ./data (or $PEERPACS_DATA) is a data dir, generates a small synthetic
 * sample study into ./sample (or $PEERPACS_SAMPLE), imports it, lists the studies, and then
 * runs the node (`peerpacs start`, settings from $PEERPACS_DICOM, $PEERPACS_HTTP, ...) until
 * Ctrl-C. Running it again imports nothing new: the import finds duplicates.
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
if (code === 0) {
  console.log(`
Starting the node. While it runs, in another terminal:
  npx peerpacs token create --name viewer --data ${data}      a bearer token for DICOMweb
  echoscu -aec PEERPACS 127.0.0.1 11112                         check DICOM
  storescu -aec PEERPACS 127.0.0.1 11112 +sd +r ${sample}       send studies (after --allow-ae or --accept-unknown-ae)
  npx peerpacs --help                                           everything else
`)
  code = await main(['start', '--data', data])
}
process.exitCode = code
