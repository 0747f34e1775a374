// The generated service's layers depend one way: in the import graph of templates/service/src no file imports a
// layer above its own, and there is no cycle. Monitoring and the prediction log observe the runtime's prediction
// events and import no HTTP code. The generated README's "Layout" section draws the same graph.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../templates/service/src/', import.meta.url));

/** Each top-level folder of src/ and its layer: a file may import its own layer and those below, never one above. */
const LAYERS: Record<string, number> = {
  contract: 0, // features.yaml / config.yaml schemas, the environment's overrides
  data: 1,
  model: 1,
  onnx: 1,
  training: 2,
  runtime: 2,
  monitoring: 3,
  predictionLog: 3,
  http: 4,
  cli: 5,
  scoring: 5,
};

/** Folders that must not import these (the observers of the runtime know nothing of HTTP). */
const FORBIDDEN: Record<string, readonly string[]> = {
  monitoring: ['http'],
  predictionLog: ['http', 'monitoring'],
};

/** Packages those folders must not import either: the HTTP framework belongs to http/. */
const FORBIDDEN_PACKAGES: Record<string, readonly string[]> = {
  monitoring: ['express', 'swagger-ui-express'],
  predictionLog: ['express', 'swagger-ui-express'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string) => relative(SRC, file).split(/[\\/]/)[0]!;
const name = (file: string) => relative(SRC, file).replaceAll('\\', '/');

/** Every file's import specifiers (static, re-exports and dynamic import()). */
function specifiers(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    found.set(
      file,
      importedFiles.map(({ fileName }) => fileName),
    );
  }
  return found;
}

/** Every file's imports of other src files. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, imported] of specifiers()) {
    graph.set(
      file,
      imported
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))),
    );
  }
  return graph;
}

describe('service layers (templates/service/src)', () => {
  const graph = importGraph();

  it('places every folder of src/ in a layer', () => {
    const unplaced = [...new Set([...graph.keys()].map(folderOf))].filter((folder) => !(folder in LAYERS));
    assert.deepEqual(unplaced, [], 'a folder (or a file at the top of src/) without a layer: add it to LAYERS and the README');
  });

  it('has no import of a layer above the importing file', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      for (const imported of imports) {
        const [from, to] = [folderOf(file), folderOf(imported)];
        if (LAYERS[to]! > LAYERS[from]! || FORBIDDEN[from]?.includes(to)) upward.push(`${name(file)} imports ${name(imported)}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('keeps the HTTP framework out of monitoring and the prediction log', () => {
    const found: string[] = [];
    for (const [file, imported] of specifiers()) {
      const forbidden = FORBIDDEN_PACKAGES[folderOf(file)] ?? [];
      for (const specifier of imported) if (forbidden.includes(specifier)) found.push(`${name(file)} imports ${specifier}`);
    }
    assert.deepEqual(found, []);
  });

  it('has no import cycle', () => {
    // Tarjan's strongly connected components: any component of more than one file is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    let next = 0;
    const visit = (file: string) => {
      index.set(file, next);
      low.set(file, next++);
      stack.push(file);
      onStack.add(file);
      for (const imported of graph.get(file) ?? []) {
        if (!index.has(imported)) {
          visit(imported);
          low.set(file, Math.min(low.get(file)!, low.get(imported)!));
        } else if (onStack.has(imported)) low.set(file, Math.min(low.get(file)!, index.get(imported)!));
      }
      if (low.get(file) === index.get(file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(name(member));
        } while (member !== file);
        if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component.sort());
      }
    };
    for (const file of graph.keys()) if (!index.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });
});
