// Every public export and every public member of the client carries TSDoc with an example, and
// every option documents itself (STYLE.md §5, §8): the API docs (`npm run docs`) are made from these.
// Both entries are checked: `resilient-ws` (src/index.ts) and `resilient-ws/core` (src/core.ts).
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRIES = ['src/index.ts', 'src/core.ts'] as const;
const program = ts.createProgram([...ENTRIES], { target: ts.ScriptTarget.ES2022, strict: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] });
const checker = program.getTypeChecker();

const exportsOf = (file: string): ts.Symbol[] => {
  const entry = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker.getExportsOfModule(entry).map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s));
};

const tags = (s: ts.Symbol): string[] => s.getJsDocTags(checker).map((t) => t.name);
const documented = (s: ts.Symbol): boolean => ts.displayPartsToString(s.getDocumentationComment(checker)).trim().length > 0;
const isValue = (s: ts.Symbol): boolean => (s.flags & (ts.SymbolFlags.Value & ~ts.SymbolFlags.TypeAlias)) !== 0;

// The interfaces whose every field is an option (or a hook) a user writes.
const OPTION_TYPES = ['BaseOptions', 'CoreOptions', 'ReconnectOptions', 'QueueOptions', 'LazyOptions', 'AuthOptions', 'HeartbeatOptions', 'PageOptions', 'SendOptions', 'Plugin', 'PluginHost', 'AttemptPlan', 'Snapshot'];

describe.each(ENTRIES)('API documentation of %s', (file) => {
  const exported = exportsOf(file);

  it('exports the client and its options', () => {
    const names = exported.map((s) => s.name);
    expect(names).toContain('ResilientWebSocket');
    for (const name of OPTION_TYPES) expect(names, name).toContain(name);
  });

  it('documents every export', () => {
    const missing = exported.filter((s) => !documented(s)).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('gives every exported value (class, function, constant) an example', () => {
    const missing = exported.filter((s) => isValue(s) && !tags(s).includes('example')).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('gives every public member of ResilientWebSocket an example', () => {
    const cls = exported.find((s) => s.name === 'ResilientWebSocket')!;
    const type = checker.getDeclaredTypeOfSymbol(cls);
    const statics = checker.getTypeOfSymbol(cls).getProperties();
    const own = (s: ts.Symbol): boolean =>
      (s.declarations ?? []).some((d) => /src\/(client|full)\.ts$/.test(d.getSourceFile().fileName) && !(ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private));
    const members = [...type.getProperties(), ...statics].filter((s) => own(s) && !s.name.startsWith('#') && s.name !== 'prototype');
    expect(members.length).toBeGreaterThan(25);
    const missing = members.filter((s) => !tags(s).includes('example')).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('documents every option and every plug-in hook', () => {
    const names = file === 'src/index.ts' ? ['Options', ...OPTION_TYPES] : OPTION_TYPES;
    const missing: string[] = [];
    for (const name of names) {
      const iface = exported.find((s) => s.name === name)!;
      for (const field of checker.getDeclaredTypeOfSymbol(iface).getProperties()) {
        if (tags(field).includes('internal')) continue;
        if (!documented(field)) missing.push(`${name}.${field.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
