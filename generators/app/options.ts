// Every setting of `yo ml-microservice` is declared once here — its name, CLI flag, type, description,
// validation and (for answers) its prompt — and the generator derives its options, its prompts, the
// non-interactive checks and the --help text from these declarations.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { CliOptionSpec, PromptQuestion } from 'yeoman-generator';
import { configFileSchema, TASKS, type Task } from '../contract.js';
import { templatesRoot } from '../packageRoot.js';

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

export interface Setting {
  /** Key in this.options (camel case) and in .yo-rc.json. */
  name: string;
  /** The command-line flag, without the leading dashes. */
  flag: string;
  type: typeof String | typeof Boolean;
  description: string;
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
  },
  config: {
    name: 'config',
    flag: 'config',
    type: String,
    description: 'config.yaml to generate from (with --features)',
  },
  example: {
    name: 'example',
    flag: 'example',
    type: String,
    description: `Start from a built-in example: ${availableExamples().join(', ') || '(none installed)'}`,
    validate: (value) => availableExamples().includes(value) || `unknown example "${value}" (available: ${availableExamples().join(', ')})`,
    // Asked as yes/no; yes means --example iris.
    prompt: () => ({ type: 'confirm', name: 'useExample', message: `Start from the ${DEFAULT_EXAMPLE} example?`, default: true }),
  },
  name: {
    name: 'name',
    flag: 'name',
    type: String,
    description: 'Project name: lower-case letters, digits and dashes (names the folder, package, image and chart)',
    validate: configField('name'),
    prompt: () => ({ type: 'input', name: 'name', message: 'Project name (lower-case, dashes)', default: 'my-ml-service' }),
  },
  task: {
    name: 'task',
    flag: 'task',
    type: String,
    description: `The model's task: ${TASKS.join(' or ')}`,
    validate: (value) => (TASKS as readonly string[]).includes(value) || `expected ${TASKS.join(' or ')}, got "${value}"`,
    prompt: () => ({ type: 'select', name: 'task', message: 'Task', choices: TASKS.map((task) => ({ name: task, value: task })) }),
  },
  data: {
    name: 'data',
    flag: 'data',
    type: String,
    description: 'Training data CSV with a header row; features.yaml is inferred from it',
    validate: csvFile,
    prompt: () => ({ type: 'input', name: 'data', message: 'Training data CSV (path)' }),
  },
  target: {
    name: 'target',
    flag: 'target',
    type: String,
    description: 'The CSV column the model predicts',
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
    validate: idFieldName,
    prompt: () => ({ type: 'input', name: 'idField', message: 'Id field of a prediction request', default: DEFAULT_ID_FIELD }),
  },
  output: {
    name: 'output',
    flag: 'output',
    type: String,
    description: 'Folder to generate into (default: ./<name>/, or the project around the current folder)',
    validate: outputFolder,
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The answers asked for, in order, when neither files nor an example are given. */
export const PROJECT_ANSWERS = ['name', 'task', 'data', 'target', 'idField'] as const satisfies readonly (keyof Answers & SettingName)[];
/** Answers without which no project can be described (idField has a default). */
export const REQUIRED_ANSWERS = ['name', 'task', 'data', 'target'] as const satisfies readonly (typeof PROJECT_ANSWERS)[number][];

export function optionSpecs(): CliOptionSpec[] {
  return Object.values(SETTINGS).map((setting: Setting) => ({
    name: setting.flag,
    type: setting.type,
    description: setting.description,
  }));
}

/** The value given for a setting, whichever spelling the caller used (yo passes both --id-field and idField). */
export function optionValue(options: Record<string, unknown>, setting: Setting): string | undefined {
  const value = options[setting.name] ?? options[setting.flag];
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}
