/** Window/level presets for CT, in Hounsfield units (width, centre), as radiology uses them. */
export interface WindowPreset {
  readonly id: string
  readonly label: string
  readonly width: number
  readonly center: number
  /** The key that applies it in the viewer. */
  readonly key: string
}

export const CT_PRESETS: readonly WindowPreset[] = [
  { id: 'brain', label: 'Brain', width: 80, center: 40, key: '1' },
  { id: 'lung', label: 'Lung', width: 1500, center: -600, key: '2' },
  { id: 'bone', label: 'Bone', width: 2000, center: 300, key: '3' },
  { id: 'abdomen', label: 'Abdomen', width: 400, center: 50, key: '4' }
]

