// The app's one brokerClient, and a reactive view of its state for Vue components.
import { reactive } from 'vue';
import { createBrokerClient } from './brokerClient.js';

export const BROKER_URL = import.meta.env.VITE_BROKER_URL || 'http://localhost:8000';

export const broker = createBrokerClient({ brokerUrl: BROKER_URL });

export const auth = reactive({
  ready: false, // init() finished
  authenticated: false,
  expiresAt: null,
  lastReason: null, // why the state last changed: login, refresh, logout, session-ended, ...
  loginError: null, // {error, errorDescription} from the callback fragment
});

broker.onChange((state, reason) => {
  auth.authenticated = state.authenticated;
  auth.expiresAt = state.expiresAt;
  auth.lastReason = reason;
});

export async function initAuth() {
  const result = await broker.init();
  if (result.type === 'error') auth.loginError = result;
  auth.ready = true;
  return result;
}
