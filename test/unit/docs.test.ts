// Every public export and every public member of the client carries TSDoc with an example, and
// every option documents itself (STYLE.md §5, §8): the API docs (`npm run docs`) are made from these.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const program = ts.createProgram(['src/index.ts'], { target: ts.ScriptTarget.ES2022, strict: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] });
const checker = program.getTypeChecker();
const entry = checker.getSymbolAtLocation(program.getSourceFile('src/index.ts')!)!;
const exported = checker.getExportsOfModule(entry).map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s));

const tags = (s: ts.Symbol): string[] => s.getJsDocTags(checker).map((t) => t.name);
const documented = (s: ts.Symbol): boolean => ts.displayPartsToString(s.getDocumentationComment(checker)).trim().length > 0;
const isValue = (s: ts.Symbol): boolean => (s.flags & (ts.SymbolFlags.Value & ~ts.SymbolFlags.TypeAlias)) !== 0;

describe('API documentation', () => {
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
      (s.declarations ?? []).some((d) => d.getSourceFile().fileName.endsWith('src/client.ts') && !(ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Private));
    const members = [...type.getProperties(), ...statics].filter((s) => own(s) && !s.name.startsWith('#') && s.name !== 'prototype');
    expect(members.length).toBeGreaterThan(25);
    const missing = members.filter((s) => !tags(s).includes('example')).map((s) => s.name);
    expect(missing).toEqual([]);
  });

  it('documents every option', () => {
    const names = ['Options', 'ReconnectOptions', 'QueueOptions', 'AuthOptions', 'HeartbeatOptions'];
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
