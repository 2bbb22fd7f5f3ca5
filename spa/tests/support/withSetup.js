// Run a composable inside a real (but invisible) Vue component, so its watchers and lifecycle
// hooks (onMounted, onBeforeUnmount) run as on the page, in Node without a DOM.
import { createRenderer } from 'vue';

const { createApp } = createRenderer({
  createElement: () => ({}),
  createText: () => ({}),
  createComment: () => ({}),
  insert() {},
  remove() {},
  setText() {},
  setElementText() {},
  patchProp() {},
  parentNode: () => null,
  nextSibling: () => null,
});

/** Mounts a component whose setup calls `composable()`; returns its result and `unmount`. */
export function withSetup(composable) {
  let result;
  const app = createApp({
    setup() {
      result = composable();
      return () => null;
    },
  });
  app.mount({});
  return { result, unmount: () => app.unmount() };
}
