import { createApp } from 'vue';
import App from './App.vue';
import { initAuth } from './auth.js';
import { createAppRouter } from './router.js';
import './style.css';

// Read (and clear) the login redirect before the router looks at the URL.
initAuth().finally(() => {
  createApp(App).use(createAppRouter()).mount('#app');
});
