import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// React libraries under the playground (GraphiQL, Headless UI, Radix) start their modules
// with "use client" (a React Server Components marker) and the React Compiler runtime with
// "use no memo" (a compiler opt-out). Neither means anything in a browser bundle, which
// drops them, and the bundler warns once per file: about a hundred warnings and a thousand
// lines on every build. Those two are known to be harmless here and are dropped; every
// other warning and every error still shows.
const harmlessDirectives = /module level directive "(use client|use no memo)"/

export default defineConfig({
  root: 'frontend',
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        playground: resolve(import.meta.dirname, 'playground.html'),
      },
      // React is shared by the app and the playground: one chunk with a name that says so.
      output: {
        advancedChunks: { groups: [{ name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ }] },
      },
      // The "plugins took n% of the build" notice says nothing about our code and shows on
      // every build on a small machine.
      checks: { bundlerTimings: false },
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && harmlessDirectives.test(warning.message)) return
        warn(warning)
      },
    },
  },
})
