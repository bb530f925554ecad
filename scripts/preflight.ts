/**
 * Runs before the test suite: checks the runtime and the Debian tools the tests drive (dcmtk, GDCM),
 * installs what is missing when it can (root with apt-get), and otherwise says exactly what
 * to install. Never lets a test silently skip for want of a tool.
 */
import { spawnSync } from 'node:child_process'

const TOOLS: Array<{ command: string, pkg: string }> = [
  { command: 'dcmdump', pkg: 'dcmtk' },
  { command: 'dcmdrle', pkg: 'dcmtk' },
  { command: 'dcmcjpeg', pkg: 'dcmtk' },
  { command: 'dcmdjpeg', pkg: 'dcmtk' },
  { command: 'gdcmconv', pkg: 'libgdcm-tools' } // JPEG 2000 test instances for the rendered-image tests
]

function has (command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  console.error(`preflight: Node ${process.versions.node} is too old; peerpacs needs Node >= 22. Run \`npm install\` (it installs Node 24 from npm) and use the npm scripts.`)
  process.exit(1)
}

let missing = TOOLS.filter((t) => !has(t.command))
if (missing.length > 0) {
  const packages = [...new Set(missing.map((t) => t.pkg))]
  const isRoot = process.getuid?.() === 0
  if (isRoot && has('apt-get')) {
    console.error(`preflight: installing ${packages.join(' ')} (for ${missing.map((t) => t.command).join(', ')})`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    let r = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env })
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
      r = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env })
    }
    missing = TOOLS.filter((t) => !has(t.command))
  }
  if (missing.length > 0) {
    console.error(`preflight: the tests need ${missing.map((t) => t.command).join(', ')} from the Debian package(s) ${packages.join(' ')}.`)
    console.error(`  install with: sudo apt-get install -y ${packages.join(' ')}`)
    process.exit(1)
  }
}
