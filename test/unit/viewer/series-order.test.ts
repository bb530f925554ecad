/**
 * The reading order of a series (viewer/src/series-order.ts): along the slice normal when every
 * image has its position and the series its orientation (whatever the Instance Numbers say, and
 * for sagittal as well as axial planes), else by Instance Number.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { DicomJson } from '../../../viewer/src/dicom-json.ts'
import { readingOrder } from '../../../viewer/src/series-order.ts'

function image (sop: string, instance: number, position?: [number, number, number], orientation = [1, 0, 0, 0, 1, 0]): DicomJson {
  return {
    '00080018': { vr: 'UI', Value: [sop] },
    '00200013': { vr: 'IS', Value: [instance] },
    '00200037': { vr: 'DS', Value: orientation },
    ...(position === undefined ? {} : { '00200032': { vr: 'DS', Value: position } })
  }
}

const sops = (images: DicomJson[]): string[] => images.map((i) => String(i['00080018']!.Value![0]))

test('axial: by position along the normal (z), not by Instance Number', () => {
  const images = [image('c', 1, [0, 0, 10]), image('a', 2, [0, 0, -5]), image('b', 3, [0, 0, 2.5])]
  assert.deepEqual(sops(readingOrder(images)), ['a', 'b', 'c'])
})

test('sagittal: the normal is row × column = (0,1,0) × (0,0,-1) = -x, so right to left', () => {
  const sagittal = [0, 1, 0, 0, 0, -1]
  const images = [image('b', 1, [3, -100, 50], sagittal), image('a', 2, [-3, -100, 50], sagittal), image('c', 3, [9, -100, 50], sagittal)]
  assert.deepEqual(sops(readingOrder(images)), ['c', 'b', 'a'])
})

test('without every position: by Instance Number; equal positions fall back to it too', () => {
  assert.deepEqual(sops(readingOrder([image('b', 2, [0, 0, 1]), image('c', 3), image('a', 1, [0, 0, 5])])), ['a', 'b', 'c'])
  assert.deepEqual(sops(readingOrder([image('b', 2, [0, 0, 0]), image('a', 1, [0, 0, 0])])), ['a', 'b'])
  assert.deepEqual(readingOrder([]), [])
})
