import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The demo app's backend (demo_app/) on the SPA's own origin under /demo-app/, as an app's SPA
// reaches its own backend (nginx does the same in docker-compose.yml).
const demoApp = {
  '/demo-app/': {
    target: process.env.DEMO_APP_URL || 'http://127.0.0.1:5050',
    rewrite: (path) => path.replace(/^\/demo-app/, ''),
  },
};

// Port 5173 for both `vite` (dev) and `vite preview`; --port/--host on the command line override.
export default defineConfig({
  plugins: [vue()],
  server: { port: 5173, strictPort: true, proxy: demoApp },
  preview: { port: 5173, strictPort: true, proxy: demoApp },
  test: { environment: 'node', include: ['tests/**/*.test.js'] },
});
