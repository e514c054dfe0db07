/**
 * The shipped code's imports: no cycles, and the layers of docs/ARCHITECTURE.md. A cycle
 * means two modules can be neither read, tested nor moved apart; type-only imports and
 * `import('...')` type references count too (they are how such cycles hide). The same graph
 * `madge --circular` draws, built with the TypeScript compiler so that it resolves like tsc.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const DIRS = ['lambdas', 'lib', 'local', 'bin', 'agent-shim/src', 'bench', 'channels', 'ui'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'tmp' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module a file names: imports, re-exports, `import('...')` in types and code, `require('...')`. */
function moduleSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** File -> the project files it imports (paths relative to the repository). */
function importGraph(packages: Map<string, string[]>): Map<string, string[]> {
  const options = ts.parseJsonConfigFileContent(ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, ROOT).options;
  const files = DIRS.flatMap((dir) => sourceFiles(join(ROOT, dir)));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const specifiers = moduleSpecifiers(file, readFileSync(file, 'utf8'));
    packages.set(relative(ROOT, file), specifiers.filter((spec) => !spec.startsWith('.')));
    const targets = specifiers
      .map((spec) => ts.resolveModuleName(spec, file, options, ts.sys).resolvedModule?.resolvedFileName)
      .filter((target): target is string => target !== undefined && known.has(target));
    graph.set(relative(ROOT, file), [...new Set(targets)].map((target) => relative(ROOT, target)));
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) connect(file);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

const packages = new Map<string, string[]>();
const graph = importGraph(packages);

/** Imports of files under `dir` that `allowed` refuses, as "file -> import". */
function importsBreaking(dir: string, allowed: (target: string) => boolean): string[] {
  return [...graph].flatMap(([file, targets]) =>
    file.startsWith(dir) ? [...targets, ...(packages.get(file) ?? [])].filter((t) => !allowed(t)).map((t) => `${file} -> ${t}`) : [],
  );
}

describe('import graph', () => {
  it('sees the shipped code, type references included', () => {
    const text = "import { a } from './a';\nimport type { B } from './b';\nexport { c } from './c';\nlet d: import('./d').D;\nconst e = require('./e');\nvoid import('./f');";
    expect(moduleSpecifiers('x.ts', text)).toEqual(['./a', './b', './c', './d', './e', './f']);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('agent-shim/src/main.ts')).toEqual(expect.arrayContaining(['agent-shim/src/config.ts']));
    expect(graph.get('lambdas/app/transition-engine.ts')).toEqual(expect.arrayContaining(['lambdas/app/ports.ts']));
  });

  it('finds a cycle when there is one', () => {
    const withCycle = new Map([...graph, ['lambdas/domain/signing-canonical.ts', [...(graph.get('lambdas/domain/signing-canonical.ts') ?? []), 'agent-shim/src/transport.ts']]]);
    expect(cycles(withCycle)).toEqual(expect.arrayContaining([expect.arrayContaining(['agent-shim/src/transport.ts', 'lambdas/domain/signing-canonical.ts'])]));
  });

  it('has no cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });
});

describe('layers', () => {
  it('domain/ is pure: it imports only domain/ and node builtins (no AWS, no deployment facts, no app)', () => {
    expect(importsBreaking('lambdas/domain/', (t) => t.startsWith('lambdas/domain/') || t.startsWith('node:'))).toEqual([]);
  });

  it('app/ reaches the outside world through ports only: no AWS SDK, no adapters, no handlers', () => {
    const outside = (t: string) => t.startsWith('@aws-sdk/') || t.startsWith('lambdas/adapters/') || t.startsWith('lambdas/functions/');
    expect(importsBreaking('lambdas/app/', (t) => !outside(t))).toEqual([]);
  });

  it("the web page's browser code imports only itself, the pure domain and no node builtin (it is bundled for browsers)", () => {
    const browser = ['ui/page/', 'ui/signer.ts', 'ui/alert-list.ts'];
    const breaking = browser.flatMap((dir) => importsBreaking(dir, (t) => (t.startsWith('ui/') && t !== 'ui/build.ts') || t.startsWith('lambdas/domain/')));
    expect(breaking).toEqual([]);
    expect(graph.get('ui/page/main.ts')).toEqual(expect.arrayContaining(['ui/page/api.ts', 'ui/alert-list.ts']));
  });
});
