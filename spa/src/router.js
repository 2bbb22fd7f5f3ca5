import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';
import PostView from './views/PostView.vue';
import VideosView from './views/VideosView.vue';
import DemoAppView from './views/DemoAppView.vue';
import ScheduledPostsView from './views/ScheduledPostsView.vue';

// History mode: the URL fragment belongs to the broker's redirect (#access_token=... / #error=...).
// Created only after brokerClient has cleared that fragment: createWebHistory() records the
// current URL and would otherwise write the token back into the address bar.
export function createAppRouter() {
  return createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/', name: 'home', component: HomeView },
      { path: '/post', name: 'post', component: PostView },
      { path: '/videos', name: 'videos', component: VideosView },
      { path: '/scheduled', name: 'scheduled', component: ScheduledPostsView },
      { path: '/app', name: 'demo-app', component: DemoAppView },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  });
}
