// The one place that says which Chromium runs and with which flags: shared by the TypeScript
// test launcher (test/support/chromium.ts) and the plain-JS benchmarks (bench/browser.mjs).
// Without the background-networking flags Chromium keeps dialing out, which this closed
// network refuses.

/** The browser binary: `RESILIENT_WS_CHROMIUM` overrides Debian's `/usr/bin/chromium`. */
export const chromiumPath = () => process.env.RESILIENT_WS_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
