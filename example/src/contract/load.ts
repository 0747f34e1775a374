// Reads features.yaml and config.yaml, validates them against the schemas (features.ts, serviceSettings.ts) and
// reports every problem with file, line, column, field and expectation. Used by the generator and
// by the generated service (at start-up), so a bad file is rejected the same way by both.
import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { featuresFileSchema, type FeaturesFile } from './features.js';
import { configFileSchema, crossCheck, type Config } from './serviceSettings.js';

export interface SpecProblem {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field, e.g. features[2].max */
  field: string;
  message: string;
}

export class SpecError extends Error {
  constructor(readonly problems: SpecProblem[]) {
    super(`Invalid project specification:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'SpecError';
  }
}

export function formatProblem({ file, line, column, field, message }: SpecProblem): string {
  const where = line === undefined ? file : `${file}:${line}:${column}`;
  return `  ${where}  ${field || '(top level)'}: ${message}`;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

interface ParsedYaml {
  file: string;
  document: Document;
  lines: LineCounter;
}

function parseYaml(file: string, text: string): ParsedYaml {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const errors = document.errors.map((error) => {
    const { line, col } = lines.linePos(error.pos[0]);
    return { file, line, column: col, field: '', message: `YAML syntax error: ${error.message.split('\n')[0]}` };
  });
  if (errors.length) throw new SpecError(errors);
  return { file, document, lines };
}

/** The position of the node at `path`, or of its nearest existing parent (e.g. for a missing key). */
function locate({ document, lines }: ParsedYaml, path: readonly PropertyKey[]): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

/**
 * The file's data. toJS() refuses a document whose aliases expand far beyond its size (a "billion laughs" bomb);
 * that refusal names the file and the first alias instead of escaping as a bare error.
 */
function toData({ file, document, lines }: ParsedYaml): unknown {
  try {
    return document.toJS();
  } catch (error) {
    let where: { line?: number; column?: number } = {};
    visit(document, {
      Alias(_key, alias) {
        if (alias.range) {
          const { line, col } = lines.linePos(alias.range[0]);
          where = { line, column: col };
        }
        return visit.BREAK;
      },
    });
    throw new SpecError([{ file, ...where, field: '', message: `cannot be read: ${(error as Error).message}` }]);
  }
}

function validate<S extends z.ZodType>(parsed: ParsedYaml, schema: S): z.output<S> {
  const data = toData(parsed);
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  throw new SpecError(
    result.error.issues.map((issue) => {
      // An unknown key points at the key itself rather than at its parent object.
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
          : issue.message;
      return { file: parsed.file, ...locate(parsed, path), field: fieldPath(path), message };
    }),
  );
}

function readText(path: string, label: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new SpecError([{ file: label, field: '', message: `cannot read ${path}: ${reason}` }]);
  }
}

/** The two files, validated. `C`: config.yaml as the reader's schema gives it (the service's own, or the generator's). */
export interface Spec<C extends Config = Config> {
  features: FeaturesFile;
  config: C;
}

/**
 * Reads the two files, validating config.yaml with `configSchema`: the service's (configFileSchema, its own
 * settings) or the generator's, which also validates the deployment sections it renders.
 */
export function specReader<C extends Config>(configSchema: z.ZodType<C>) {
  /** Parses and validates features.yaml and config.yaml from text. `names` label the files in messages. */
  function parseSpec(
    featuresText: string,
    configText: string,
    names: { features: string; config: string } = { features: 'features.yaml', config: 'config.yaml' },
  ): Spec<C> {
    const problems: SpecProblem[] = [];
    const attempt = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (error) {
        if (error instanceof SpecError) problems.push(...error.problems);
        else throw error;
        return undefined;
      }
    };
    const featuresYaml = attempt(() => parseYaml(names.features, featuresText));
    const configYaml = attempt(() => parseYaml(names.config, configText));
    const features = featuresYaml && attempt(() => validate(featuresYaml, featuresFileSchema));
    const config = configYaml && attempt(() => validate(configYaml, configSchema));
    if (features && config && configYaml) {
      for (const problem of crossCheck(features, config)) {
        problems.push({
          file: names.config,
          ...locate(configYaml, problem.path),
          field: fieldPath(problem.path),
          message: problem.message,
        });
      }
    }
    if (problems.length || !features || !config) throw new SpecError(problems);
    return { features, config };
  }

  /** Reads and validates both files; throws SpecError listing every problem in either. */
  function loadSpec(featuresPath: string, configPath: string): Spec<C> {
    const problems: SpecProblem[] = [];
    const read = (path: string, label: string) => {
      try {
        return readText(path, label);
      } catch (error) {
        problems.push(...(error as SpecError).problems);
        return undefined;
      }
    };
    const featuresText = read(featuresPath, featuresPath);
    const configText = read(configPath, configPath);
    if (featuresText === undefined || configText === undefined) throw new SpecError(problems);
    return parseSpec(featuresText, configText, { features: featuresPath, config: configPath });
  }

  return { parseSpec, loadSpec };
}

/** The service's readers: config.yaml's service settings validated, its deployment sections accepted unread. */
export const { parseSpec, loadSpec } = specReader(configFileSchema);
