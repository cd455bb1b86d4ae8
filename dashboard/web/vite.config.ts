import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The build goes into the CMake build tree (ADAGIO_DASHBOARD_OUT, set by dashboard/CMakeLists.txt).
export default defineConfig({
  base: './', // relative asset URLs: the UI works behind a reverse proxy under any path
  build: {
    outDir: process.env.ADAGIO_DASHBOARD_OUT ?? resolve(__dirname, '../../build/dashboard/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/metrics': 'http://127.0.0.1:8080' } },
});
