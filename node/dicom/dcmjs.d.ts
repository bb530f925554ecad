// The slice of dcmjs (which ships no types) that peerpacs uses.
declare module 'dcmjs' {
  export interface DicomElementJson { vr: string, Value?: unknown[], _rawValue?: unknown }
  interface DicomDict { meta: Record<string, DicomElementJson>, dict: Record<string, DicomElementJson> }
  interface ReadOptions { ignoreErrors?: boolean, untilTag?: string | null, includeUntilTagValue?: boolean, noCopy?: boolean }
  const dcmjs: {
    data: { DicomMessage: { readFile (buffer: ArrayBuffer, options?: ReadOptions): DicomDict } }
    log: { setLevel (level: string): void, getLogger (name: string): { setLevel (level: string): void } }
  }
  export default dcmjs
}
