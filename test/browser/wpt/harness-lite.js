/* global DOMException */
// A small testharness in the style of web-platform-tests (same function names, so a port reads
// like the test it models), written for this repository. Subtests are registered when a test file
// loads and run one after another once the page has loaded; each one is bounded (TIMEOUT), so a
// page never hangs. Results end up in window.__wpt: { done, results: [{ name, status, message }] }.
(() => {
  'use strict';
  const BOUND_MS = 5000;
  const queue = [];
  const state = { done: false, results: [] };
  window.__wpt = state;

  class AssertionError extends Error {}
  const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'symbol' ? v.toString() : String(v));
  const check = (ok, message) => {
    if (!ok) throw new AssertionError(message);
  };

  window.assert_true = (v, d = '') => check(v === true, `assert_true: ${d} expected true, got ${show(v)}`);
  window.assert_false = (v, d = '') => check(v === false, `assert_false: ${d} expected false, got ${show(v)}`);
  window.assert_equals = (a, e, d = '') => check(Object.is(a, e), `assert_equals: ${d} expected ${show(e)}, got ${show(a)}`);
  window.assert_not_equals = (a, e, d = '') => check(!Object.is(a, e), `assert_not_equals: ${d} got the unwanted ${show(a)}`);
  window.assert_array_equals = (a, e, d = '') =>
    check(a.length === e.length && Array.prototype.every.call(a, (x, i) => Object.is(x, e[i])), `assert_array_equals: ${d} expected [${Array.from(e, show)}], got [${Array.from(a, show)}]`);
  window.assert_unreached = (d = '') => check(false, `assert_unreached: ${d}`);
  window.assert_throws_dom = (name, fn, d = '') => {
    let error;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    check(error !== undefined, `assert_throws_dom: ${d} expected a ${name} DOMException, nothing was thrown`);
    check(error instanceof DOMException, `assert_throws_dom: ${d} expected a DOMException, got ${error && error.constructor && error.constructor.name} (${error && error.name})`);
    check(error.name === name, `assert_throws_dom: ${d} expected name ${name}, got ${error.name}`);
  };
  window.assert_throws_js = (Type, fn, d = '') => {
    let error;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    check(error !== undefined, `assert_throws_js: ${d} expected ${Type.name}, nothing was thrown`);
    check(error instanceof Type, `assert_throws_js: ${d} expected ${Type.name}, got ${error && error.name}`);
  };

  /** What an async subtest receives: steps that report their exceptions, and done(). */
  class Test {
    constructor(name, settle) {
      this.name = name;
      this.settle = settle;
      this.cleanups = [];
    }
    step(fn, self, ...args) {
      try {
        return fn.apply(self, args);
      } catch (e) {
        this.settle(e);
        return undefined;
      }
    }
    step_func(fn, self) {
      return (...args) => this.step(fn, self === undefined ? this : self, ...args);
    }
    step_func_done(fn, self) {
      return (...args) => {
        if (fn) this.step(fn, self === undefined ? this : self, ...args);
        this.done();
      };
    }
    unreached_func(d = '') {
      return this.step_func(() => window.assert_unreached(d));
    }
    add_cleanup(fn) {
      this.cleanups.push(fn);
    }
    done() {
      this.settle(null);
    }
  }

  const register = (kind, fn, name) => queue.push({ kind, fn, name: name || `subtest ${queue.length + 1}` });
  window.test = (fn, name) => register('sync', fn, name);
  window.async_test = (fn, name) => register('async', fn, name);
  window.promise_test = (fn, name) => register('promise', fn, name);

  const runOne = (entry) =>
    new Promise((resolve) => {
      let settled = false;
      let t;
      const settle = (error, status) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const c of t.cleanups) {
          try {
            c();
          } catch {
            /* a cleanup must not change the verdict */
          }
        }
        resolve({ name: entry.name, status: status || (error ? 'FAIL' : 'PASS'), message: error ? String(error.message || error) : '' });
      };
      t = new Test(entry.name, settle);
      const timer = setTimeout(() => settle(new Error(`no result within ${BOUND_MS} ms`), 'TIMEOUT'), BOUND_MS);
      try {
        if (entry.kind === 'sync') {
          entry.fn.call(t, t);
          settle(null);
        } else if (entry.kind === 'async') {
          entry.fn.call(t, t);
        } else {
          Promise.resolve(entry.fn.call(t, t)).then(() => settle(null), (e) => settle(e));
        }
      } catch (e) {
        settle(e);
      }
    });

  window.addEventListener('load', async () => {
    for (const entry of queue) state.results.push(await runOne(entry));
    state.done = true;
  });
})();
