// Every setting of the generators is declared once here — its name, CLI flag, type, description, default,
// validation, its prompt (for answers), which generators take it and where its value lives (scope, as
// JHipster's command declarations have it) — and the generators derive their options, defaults, prompts, the
// non-interactive checks, the --help text and what .yo-rc.json remembers from these declarations.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { BaseOptions, CliOptionSpec, PromptQuestion } from 'yeoman-generator';
import { configFileSchema, TASKS, type Spec, type Task } from '../contract.js';
import { isTerminal } from '../conflicts.js';
import { readGeneratorPackageJson, templatesRoot } from '../packageRoot.js';

/** The answers that describe a new project when it is not given as features.yaml + config.yaml. */
export interface Answers {
  useExample?: boolean;
  name?: string;
  task?: Task;
  data?: string;
  target?: string;
  idField?: string;
}

/** What prompts and validators may need to know about the run. */
export interface SettingContext {
  /** The folder the command runs in; relative paths are resolved against it. */
  cwd: string;
  /** Header of the data CSV, once it is known (the target is chosen from it). */
  columns?: readonly string[];
  /** The feature name of each of those columns (a column such as `mean radius` becomes mean_radius). */
  names?: readonly string[];
}

/**
 * Where a setting's value lives. `run`: an option of this run only. `storage`: also remembered in the project's
 * .yo-rc.json (the value taken from the validated spec), so a bare re-run in the project regenerates from it.
 * `environment`: an option yeoman-environment reads too (the conflicter, the package install).
 */
export type Scope = 'run' | 'storage' | 'environment';

export interface Setting {
  /** Key in this.options (camel case) and, for the storage scope, in .yo-rc.json. */
  name: string;
  /** The command-line flag, without the leading dashes; none: set by code, never on the command line. */
  flag?: string;
  type: typeof String | typeof Boolean;
  description: string;
  scope: Scope;
  /** `app`: only `yo ml-microservice` takes it; `every`: every generator of the package, parts run alone too. */
  generators: 'app' | 'every';
  /** The value when none is given (computed when the generator starts). */
  default?: () => string | boolean;
  /** For the storage scope: the value .yo-rc.json remembers, from the validated spec. */
  store?: (spec: Spec) => string;
  /** Checks a value given as flag or answer: true, or what is wrong with it. */
  validate?: (value: string, context: SettingContext) => true | string;
  /** How to ask for the value in a terminal, when it was not given as a flag. */
  prompt?: (context: SettingContext) => PromptQuestion<Answers>;
}

export const DEFAULT_ID_FIELD = 'request_id';
export const DEFAULT_EXAMPLE = 'iris';

export const EXAMPLES_ROOT = join(templatesRoot, 'examples');

export function availableExamples(): string[] {
  if (!existsSync(EXAMPLES_ROOT)) return [];
  return readdirSync(EXAMPLES_ROOT, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Runs one field of the config.yaml schema, so flags and answers obey the same rules as the file. */
function configField(field: 'name' | 'target' | 'id_field') {
  return (value: string): true | string => {
    const result = configFileSchema.shape[field].safeParse(value);
    return result.success || (result.error.issues[0]?.message ?? 'invalid value');
  };
}

const csvFile = (value: string, { cwd }: SettingContext): true | string => {
  const path = resolve(cwd, value);
  if (!existsSync(path)) return `no such file: ${path}`;
  if (!statSync(path).isFile()) return `not a file: ${path}`;
  return true;
};

/** Longest file name most file systems take (ext4, APFS, NTFS): a longer one fails with ENAMETOOLONG. */
const MAX_FILE_NAME_BYTES = 255;

/** The folder to generate into must be a folder, or a path where one can be made: no file on the way. */
const outputFolder = (value: string, { cwd }: SettingContext): true | string => {
  const path = resolve(cwd, value);
  const tooLong = path.split(sep).find((part) => Buffer.byteLength(part) > MAX_FILE_NAME_BYTES);
  if (tooLong) return `a folder name is longer than ${MAX_FILE_NAME_BYTES} bytes: ${tooLong.slice(0, 40)}…`;
  for (let folder = path; ; folder = dirname(folder)) {
    if (existsSync(folder)) return statSync(folder).isDirectory() ? true : `not a folder: ${folder} is a file`;
    if (dirname(folder) === folder) return true;
  }
};

/** A column of the data CSV (once its header is known), named as the file names it or by its feature name. */
const dataColumn = (value: string, { columns, names }: SettingContext): true | string => {
  if (!value.trim()) return 'expected a column of the data CSV';
  if (!columns || columns.includes(value) || names?.includes(value)) return true;
  return `"${value}" is not a column of the data CSV (columns: ${columns.join(', ')})`;
};

/** The id field: a column of the data CSV (it becomes a valid name), or a name of its own. */
const idFieldName = (value: string, context: SettingContext): true | string =>
  context.columns?.includes(value) || context.names?.includes(value) ? true : configField('id_field')(value);

export const SETTINGS = {
  features: {
    name: 'features',
    flag: 'features',
    type: String,
    description: 'features.yaml to generate from (with --config)',
    scope: 'storage',
    generators: 'app',
    // The project's own copy, which a re-run in the project reads.
    store: () => 'features.yaml',
  },
  config: {
    name: 'config',
    flag: 'config',
    type: String,
    description: 'config.yaml to generate from (with --features)',
    scope: 'storage',
    generators: 'app',
    store: () => 'config.yaml',
  },
  example: {
    name: 'example',
    flag: 'example',
    type: String,
    description: `Start from a built-in example: ${availableExamples().join(', ') || '(none installed)'}`,
    scope: 'run',
    generators: 'app',
    validate: (value) => availableExamples().includes(value) || `unknown example "${value}" (available: ${availableExamples().join(', ')})`,
    // Asked as yes/no; yes means --example iris.
    prompt: () => ({ type: 'confirm', name: 'useExample', message: `Start from the ${DEFAULT_EXAMPLE} example?`, default: true }),
  },
  name: {
    name: 'name',
    flag: 'name',
    type: String,
    description: 'Project name: lower-case letters, digits and dashes (names the folder, package, image and chart)',
    scope: 'storage',
    generators: 'app',
    store: ({ config }) => config.name,
    validate: configField('name'),
    prompt: () => ({ type: 'input', name: 'name', message: 'Project name (lower-case, dashes)', default: 'my-ml-service' }),
  },
  task: {
    name: 'task',
    flag: 'task',
    type: String,
    description: `The model's task: ${TASKS.join(' or ')}`,
    scope: 'storage',
    generators: 'app',
    store: ({ config }) => config.task,
    validate: (value) => (TASKS as readonly string[]).includes(value) || `expected ${TASKS.join(' or ')}, got "${value}"`,
    prompt: () => ({ type: 'select', name: 'task', message: 'Task', choices: TASKS.map((task) => ({ name: task, value: task })) }),
  },
  target: {
    name: 'target',
    flag: 'target',
    type: String,
    description: 'The CSV column the model predicts',
    scope: 'storage',
    generators: 'app',
    store: ({ config }) => config.target,
    validate: dataColumn,
    prompt: ({ columns = [] }) => ({
      type: 'select',
      name: 'target',
      message: 'Target column (what the model predicts)',
      choices: columns.map((name) => ({ name, value: name })),
      default: columns.at(-1),
    }),
  },
  idField: {
    name: 'idField',
    flag: 'id-field',
    type: String,
    description: 'Request field echoed and logged with each prediction (default: request_id); a CSV column is left out of the features',
    scope: 'storage',
    generators: 'app',
    store: ({ config }) => config.id_field,
    validate: idFieldName,
    prompt: () => ({ type: 'input', name: 'idField', message: 'Id field of a prediction request', default: DEFAULT_ID_FIELD }),
  },
  data: {
    name: 'data',
    flag: 'data',
    type: String,
    description: 'Training data CSV with a header row; features.yaml is inferred from it',
    scope: 'storage',
    generators: 'app',
    store: ({ config }) => config.data.path,
    validate: csvFile,
    prompt: () => ({ type: 'input', name: 'data', message: 'Training data CSV (path)' }),
  },
  output: {
    name: 'output',
    flag: 'output',
    type: String,
    description: 'Folder to generate into (default: ./<name>/, or the project around the current folder)',
    scope: 'run',
    generators: 'app',
    validate: outputFolder,
  },
  generatorVersion: {
    name: 'generatorVersion',
    type: String,
    description: 'The version of generator-ml-microservice that generated the project',
    scope: 'storage',
    generators: 'app',
    store: () => readGeneratorPackageJson().version,
  },
  interactive: {
    name: 'interactive',
    flag: 'interactive',
    type: Boolean,
    description: 'Ask questions (prompts, file conflicts); without the flag: when stdin and stdout are terminals',
    scope: 'run',
    generators: 'every',
    default: isTerminal,
  },
  force: {
    name: 'force',
    flag: 'force',
    type: Boolean,
    description: 'Overwrite files that differ from the templates without asking',
    scope: 'environment',
    generators: 'every',
  },
  skipInstall: {
    name: 'skipInstall',
    // Yeoman's own flag (every generator has it): declared here for its default and the camel-case key the
    // environment reads.
    flag: 'skip-install',
    type: Boolean,
    description: 'Do not automatically install dependencies',
    scope: 'environment',
    generators: 'every',
    default: () => false,
  },
  nodePackageManager: {
    name: 'nodePackageManager',
    type: String,
    description: 'The package manager of the install after generation',
    scope: 'environment',
    generators: 'every',
    // The project's lockfile-free first install must not guess the package manager.
    default: () => 'npm',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The answers asked for, in order, when neither files nor an example are given. */
export const PROJECT_ANSWERS = ['name', 'task', 'data', 'target', 'idField'] as const satisfies readonly (keyof Answers & SettingName)[];
/** Answers without which no project can be described (idField has a default). */
export const REQUIRED_ANSWERS = ['name', 'task', 'data', 'target'] as const satisfies readonly (typeof PROJECT_ANSWERS)[number][];

/** The options of every generator, typed from the declarations (a Boolean setting is a boolean, the rest strings). */
export type SettingOptions = {
  -readonly [Name in SettingName]?: (typeof SETTINGS)[Name]['type'] extends typeof Boolean ? boolean : string;
};

/** What a generator of this package is given: Yeoman's options and the settings. */
export type GeneratorOptions = BaseOptions & SettingOptions;

const settingsOf = (generators: Setting['generators']): Setting[] =>
  Object.values(SETTINGS).filter((setting: Setting) => generators === 'app' || setting.generators === 'every');

/** The command-line options of the app (`app`) or of a part generator (`every`). */
export function optionSpecs(generators: Setting['generators']): CliOptionSpec[] {
  return settingsOf(generators).flatMap((setting) =>
    setting.flag ? [{ name: setting.flag, type: setting.type, description: setting.description }] : [],
  );
}

/** The parts of a generator the settings need. */
interface OptionHost {
  options: object;
  option(spec: CliOptionSpec): unknown;
}

/**
 * Declares a generator's options and fills in, under each setting's name, the value given (a Boolean is on when
 * either spelling is: yo passes --skip-install both as skip-install and skipInstall) or else its default.
 */
export function declareOptions(generator: OptionHost, generators: Setting['generators']): void {
  for (const spec of optionSpecs(generators)) generator.option(spec);
  const options = generator.options as Record<string, unknown>;
  for (const setting of settingsOf(generators)) {
    const spellings = [options[setting.name], setting.flag === undefined ? undefined : options[setting.flag]];
    const given = setting.type === Boolean && spellings.includes(true) ? true : spellings.find((value) => value !== undefined);
    if (given !== undefined) options[setting.name] = given;
    else if (setting.default) options[setting.name] = setting.default();
  }
}

export type StoredSettingName = {
  [Name in SettingName]: (typeof SETTINGS)[Name]['scope'] extends 'storage' ? Name : never;
}[SettingName];

/** What .yo-rc.json remembers of the project: every setting of the storage scope, from the validated spec. */
export function storedSettings(spec: Spec): Record<StoredSettingName, string> {
  return Object.fromEntries(
    Object.values(SETTINGS).flatMap((setting: Setting) =>
      setting.scope === 'storage' && setting.store ? [[setting.name, setting.store(spec)]] : [],
    ),
  ) as Record<StoredSettingName, string>;
}

/** The value given for a setting, whichever spelling the caller used (yo passes both --id-field and idField). */
export function optionValue(options: Record<string, unknown>, setting: Setting): string | undefined {
  const value = options[setting.name] ?? (setting.flag === undefined ? undefined : options[setting.flag]);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}
