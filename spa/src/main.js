import { createApp } from 'vue';
import App from './App.vue';
import { initAuth } from './auth.js';
import { router } from './router.js';
import './style.css';

// Read (and clear) the login redirect before the router looks at the URL.
initAuth().finally(() => {
  createApp(App).use(router).mount('#app');
});
