import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Port 5173 for both `vite` (dev) and `vite preview`; --port/--host on the command line override.
export default defineConfig({
  plugins: [vue()],
  server: { port: 5173, strictPort: true },
  preview: { port: 5173, strictPort: true },
  test: { environment: 'node', include: ['tests/**/*.test.js'] },
});
