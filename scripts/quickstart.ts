/**
 * `npm start [-- FLAGS]`: makes sure ./data (or $PEERPACS_DATA, or --data) is a data dir,
 * generates a small synthetic sample study into ./sample (or $PEERPACS_SAMPLE), imports it,
 * lists the studies, and then runs the node (`peerpacs start FLAGS`, settings from flags,
 * $PEERPACS_DICOM, $PEERPACS_HTTP, ...) until Ctrl-C. Running it again imports nothing new.
 *
 * FLAGS are `peerpacs start`'s and are checked before anything is done: a mistyped one is
 * refused with a message, never ignored. Once the node listens, it prints commands to try
 * against it, with its real address and port; each works exactly as printed (the quick-start
 * test runs them). For that, dcmtk's tools calling from this machine under their own AE titles
 * are let in, in addition to any allow-list given. In a terminal, init asks for the first admin
 * account's password, and once the node listens the quick start says where to sign in.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { dataDirOf, helpOf, parse } from '../node/cli/command.ts'
import { start } from '../node/cli/commands/start.ts'
import { reportError } from '../node/cli/execute.ts'
import { main } from '../node/cli/main.ts'
import { Output } from '../node/cli/output.ts'
import { signInLines } from '../node/cli/run/init-admin.ts'
import { syntheticStudy, KNOWN_PATIENTS } from '../test/synthetic/study.ts'

/** The calling AE titles dcmtk's tools use when not told otherwise. */
const DCMTK_AES = ['ECHOSCU', 'STORESCU', 'FINDSCU', 'GETSCU', 'MOVESCU']

process.umask(0o077)
const flags = process.argv.slice(2)
let values
try {
  values = parse(start, flags).values
} catch (error) {
  process.exit(await reportError(error, new Output({ json: false }), process.env))
}
if (values.help === true) {
  process.stdout.write('Usage: npm start [-- FLAGS]   (the quick start: init, a sample study, import, then `peerpacs start FLAGS`)\n\n' + helpOf(start) + '\n')
  process.exit(0)
}
const data = dataDirOf(values, process.env)
const sample = process.env.PEERPACS_SAMPLE ?? './sample'
const passphrase = typeof values['passphrase-file'] === 'string' ? ['--passphrase-file', values['passphrase-file']] : []

// In a terminal, init asks for the first admin's password; in CI (no terminal) it makes none and says how.
let madeAdmin = false
if (!existsSync(join(data, 'peerpacs.json'))) {
  const code = await main(['init', '--data', data, '--name', typeof values.name === 'string' ? values.name : 'peerpacs quick start', ...passphrase])
  if (code !== 0) process.exit(code)
  madeAdmin = process.stdin.isTTY === true
}
if (!existsSync(sample)) {
  for (const instance of syntheticStudy({ seed: 1, patient: KNOWN_PATIENTS[0], profile: 'mixed', folder: 'study-1' })) {
    const path = join(sample, instance.relativePath)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, instance.bytes)
  }
  console.log(`\nGenerated a synthetic sample study in ${sample}`)
}
let code = await main(['import', '--data', data, ...passphrase, sample])
if (code === 0) code = await main(['studies', '--data', data, ...passphrase])
if (code === 0) {
  const given = typeof values['allow-ae'] === 'string' ? values['allow-ae'] : process.env.PEERPACS_ALLOW_AE
  const allow = [...(given === undefined || given === '' ? [] : [given]), ...DCMTK_AES.map((ae) => `${ae}@127.0.0.1`)].join(',')
  const startArgs = [...flags.filter((f, i) => !(f === '--allow-ae' || f.startsWith('--allow-ae=') || flags[i - 1] === '--allow-ae')), '--allow-ae', allow]
  console.log(`\nStarting the node. This quick start lets dcmtk's tools on this machine in (${DCMTK_AES.join(', ')} from 127.0.0.1); \`peerpacs start\` alone does not.`)
  const running = main(['start', '--data', data, ...startArgs])
  void printHintsWhenReady(running)
  code = await running
}
process.exitCode = code

/** Once the node has written control.json (it is listening), prints what to try, as it is. */
async function printHintsWhenReady (running: Promise<number>): Promise<void> {
  let stopped = false
  void running.then(() => { stopped = true })
  while (!stopped) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    let control: { pid?: number, url?: string, dicom?: { aeTitle: string, host: string, port: number } }
    try {
      control = JSON.parse(await readFile(join(data, 'control.json'), 'utf8')) as typeof control
    } catch {
      continue
    }
    if (control.pid !== process.pid || control.dicom === undefined || control.url === undefined) continue
    const { aeTitle, port } = control.dicom
    const host = control.dicom.host === '0.0.0.0' || control.dicom.host === '::' ? '127.0.0.1' : control.dicom.host
    const hints = hintLines({ aeTitle, host, port, url: control.url, data, sample })
    const width = Math.max(...hints.map(([command]) => command.length)) + 3
    console.log(['', 'While it runs, in another terminal (each works as printed):', ...hints.map(([command, what]) => `  ${command.padEnd(width)}${what}`), ''].join('\n'))
    console.log(signInText(control.url, data).join('\n') + '\n')
    return
  }
}

/** Where and how a person signs in (the browser's origin is localhost: passkeys are bound to it). */
function signInText (url: string, dataDir: string): string[] {
  const browser = url.replace('//127.0.0.1:', '//localhost:').replace(/\/?$/, '/')
  const data = dataDir.includes(' ') ? `'${dataDir}'` : dataDir
  if (madeAdmin) return signInLines('admin', browser, true)
  return [
    `Sign in at ${browser} with an account of this org (\`npx peerpacs users list --data ${data}\` shows them).`,
    `No admin yet? \`npx peerpacs users add admin --role admin --data ${data}\` makes one (it asks for the password);`,
    'the first sign-in enrols a second factor with an authenticator app (TOTP).'
  ]
}

/** The commands to try against the running node, each with what it shows. */
function hintLines (node: { aeTitle: string, host: string, port: number, url: string, data: string, sample: string }): Array<[string, string]> {
  const dimse = `-aec ${node.aeTitle} ${node.host} ${node.port}`
  const data = node.data.includes(' ') ? `'${node.data}'` : node.data
  const sample = node.sample.includes(' ') ? `'${node.sample}'` : node.sample
  return [
    [`echoscu ${dimse}`, 'check DICOM (C-ECHO)'],
    [`storescu -xr +sd +r ${dimse} ${sample}`, 'send the sample again (-xr: RLE too; a resend is a duplicate)'],
    [`findscu -S -k QueryRetrieveLevel=STUDY -k PatientName -k StudyInstanceUID ${dimse}`, 'list the studies (C-FIND)'],
    [`npx peerpacs studies --data ${data}`, 'list the studies'],
    [`npx peerpacs token create --name viewer --data ${data}`, `a bearer token for DICOMweb at ${node.url}/dicomweb`],
    ['npx peerpacs --help', 'everything else']
  ]
}
