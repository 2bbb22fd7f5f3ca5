import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';
import PostView from './views/PostView.vue';

// History mode: the URL fragment belongs to the broker's redirect (#access_token=... / #error=...).
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'home', component: HomeView },
    { path: '/post', name: 'post', component: PostView },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});
