/**
 * Browser builds of @meridian/client, from the TypeScript sources:
 *
 *   dist/browser/meridian-client.js             ESM, minified, for the package's
 *     "browser" export condition. yjs, y-protocols and lib0 stay imports: an app
 *     must share one copy of Yjs with its editor bindings.
 *   dist/browser/meridian-client.standalone.js  ESM with everything inside and
 *     Yjs re-exported as `Y`, for a plain <script type="module"> (and the e2e test).
 *
 * platform 'browser' makes any Node built-in import a build error, which is
 * the guarantee that the client bundles for pages. @meridian/core declares
 * `"sideEffects": false`, which lets esbuild drop the modules of it the
 * client never reaches (the replication policy code, and zod with it).
 */
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  // Resolve @meridian/core to its TypeScript source, so the bundle never depends on a stale build.
  conditions: ['source', 'browser'],
  logLevel: 'silent',
  legalComments: 'none',
}

/** Builds both bundles into `outDir` (default dist/browser) and returns their sizes in bytes. */
export async function bundleClient(outDir = join(packageDir, 'dist', 'browser')) {
  mkdirSync(outDir, { recursive: true })
  const lean = join(outDir, 'meridian-client.js')
  const standalone = join(outDir, 'meridian-client.standalone.js')
  await build({
    ...common,
    entryPoints: [join(packageDir, 'src', 'index.ts')],
    outfile: lean,
    external: ['yjs', 'y-protocols', 'y-protocols/*', 'lib0', 'lib0/*'],
  })
  await build({
    ...common,
    stdin: {
      contents: "export * from './src/index.ts'\nexport * as Y from 'yjs'\n",
      resolveDir: packageDir,
      sourcefile: 'standalone.ts',
      loader: 'ts',
    },
    outfile: standalone,
  })
  const size = (file) => {
    const bytes = readFileSync(file)
    return { file, minified: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength }
  }
  return { lean: size(lean), standalone: size(standalone) }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await bundleClient()
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`
  for (const [name, s] of Object.entries(sizes)) {
    console.log(`${name}: ${kib(s.minified)} minified, ${kib(s.gzip)} gzip (${s.file})`)
  }
  writeFileSync(join(packageDir, 'dist', 'browser', 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n')
}
