import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Pages are React.lazy chunks (src/app/routes.tsx). React gets its own long-cached file so a UI
// change does not invalidate it; Ant Design is left to the automatic split so a page ships only
// the components it uses (one antd group would put every page's components into the first page).
// The dev server proxies the API to a controller started with --no-tls on port 18443.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/, priority: 20 },
          ],
        },
      },
    },
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:18443', changeOrigin: false } },
  },
});
