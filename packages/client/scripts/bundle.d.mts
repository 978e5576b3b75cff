export interface BundleSize {
  file: string
  minified: number
  gzip: number
}
export function bundleClient(outDir?: string): Promise<{ lean: BundleSize; standalone: BundleSize }>
