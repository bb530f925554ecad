/**
 * The DIMSE edge's connection limits in the node settings: defaults, the config file keys
 * dicom.artimTimeout and dicom.maxConnectionsPerAddress, and a bad value named with its key.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConfigError, loadSettings } from '../../../../node/config/config.ts'
import { tempDir } from '../helpers/temp.ts'

test('ARTIM and the per-address limit: defaults, from the config file, and refused when out of range', async (t) => {
  const defaults = await loadSettings({ dataDir: 'd' })
  assert.deepEqual([defaults.dimse.idleTimeout, defaults.dimse.artimTimeout, defaults.dimse.maxConnectionsPerAddress], [120, 30, 32])
  const dir = await tempDir(t, 'peerpacs-dimse-settings-')
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify({ dicom: { idleTimeout: 300, artimTimeout: 10, maxConnectionsPerAddress: 4 } }))
  const s = await loadSettings({ dataDir: 'd', configFile: path })
  assert.deepEqual([s.dimse.idleTimeout, s.dimse.artimTimeout, s.dimse.maxConnectionsPerAddress], [300, 10, 4])
  await writeFile(path, JSON.stringify({ dicom: { maxConnectionsPerAddress: 0 } }))
  await assert.rejects(loadSettings({ dataDir: 'd', configFile: path }), (e: unknown) => e instanceof ConfigError && /dicom\.maxConnectionsPerAddress: must be a whole number from 1/.test(e.message))
  await writeFile(path, JSON.stringify({ dicom: { artimTimeOut: 5 } }))
  await assert.rejects(loadSettings({ dataDir: 'd', configFile: path }), /did you mean "artimTimeout"/)
})
