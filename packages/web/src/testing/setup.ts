/**
 * Set-up of every web component test: Testing Library's DOM matchers, msw answering fetch (a
 * request no test handles fails the test), the browser APIs jsdom lacks that Ant Design uses, and
 * clean storage and DOM after each test.
 */
import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { server } from './server';

// Pages are lazy chunks: the first render of one transforms Ant Design's modules, which in a
// test worker can take many seconds on a loaded machine (Testing Library waits one by default).
configure({ asyncUtilTimeout: 30_000 });

// Ant Design's responsive grid asks for media queries; jsdom has no matchMedia.
Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});

// Select dropdowns and tables measure themselves; jsdom has no layout, so nothing ever resizes.
class NoResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
Object.defineProperty(window, 'ResizeObserver', { writable: true, value: NoResizeObserver });

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  sessionStorage.clear();
  localStorage.clear();
});
afterAll(() => server.close());
