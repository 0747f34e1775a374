// yo ml-microservice — turns features.yaml + config.yaml (given, from an example, or drafted from a CSV and a
// few answers) into a project: validates them with the shared spec loader, writes them into the project
// verbatim with the data file, remembers where they are in .yo-rc.json and composes the part generators.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Generator, { type PromptQuestion } from 'yeoman-generator';
import { loadSpec, parseSpec, type Spec } from '../contract.js';
import { ConflictPolicy } from '../conflicts.js';
import { readUsage } from '../packageRoot.js';
import type { PartOptions } from '../part.js';
import { findProject, type FoundProject, type StoredProjectConfig } from '../projectRoot.js';
import {
  configYaml,
  featuresYaml,
  inferFeatures,
  readCsv,
  readCsvRecords,
  targetProblems,
  type CsvTable,
  type DraftFeature,
} from './featureInference.js';
import {
  DEFAULT_EXAMPLE,
  DEFAULT_ID_FIELD,
  EXAMPLES_ROOT,
  PROJECT_ANSWERS,
  REQUIRED_ANSWERS,
  SETTINGS,
  declareOptions,
  optionValue,
  storedSettings,
  type Answers,
  type GeneratorOptions,
  type Setting,
  type SettingContext,
} from './options.js';

export type AppOptions = GeneratorOptions & Record<string, unknown>;

/** The project's contract, validated, with the exact text to write and where its data comes from. */
interface ResolvedInput {
  spec: Spec;
  featuresText: string;
  configText: string;
  /** Absolute path of the data file to copy into the project at spec.config.data.path, if there is one. */
  dataSource?: string;
  /** Why the data file is not copied, when it is not. */
  dataNote?: string;
}

/** Data files up to this size are read at generation to check the task against the target column. */
const MAX_CHECKED_DATA_BYTES = 50 * 1024 * 1024;

/** The part generators composed into every project, next to this folder (each renders its own template folder). */
const PART_GENERATORS = ['service', 'docker', 'helm', 'jenkins', 'ansible', 'ci'] as const;

const thisFile = fileURLToPath(import.meta.url);
const partGeneratorPath = (part: string) => join(dirname(thisFile), '..', part, `index${extname(thisFile)}`);

export default class AppGenerator extends Generator<StoredProjectConfig, AppOptions> {
  #project?: FoundProject;
  #input?: ResolvedInput;
  #conflicts = new ConflictPolicy(this);

  constructor(args?: string[], options?: AppOptions) {
    super(args, options);
    this.description = 'Generates an ML microservice from features.yaml + config.yaml, an example, or a CSV and a few answers.';
    declareOptions(this, 'app');
  }

  override help(): string {
    return `${super.help()}\n${readUsage('app')}`;
  }

  #value(setting: Setting): string | undefined {
    return optionValue(this.options, setting);
  }

  #settingContext(table?: CsvTable): SettingContext {
    return { cwd: this.contextRoot, columns: table?.header, names: table?.names };
  }

  /** Paths in messages: relative to where the user is, unless that is further away than the absolute path. */
  #label(path: string): string {
    const fromCwd = relative(process.cwd(), path);
    return fromCwd && !fromCwd.startsWith(`..${sep}..`) && !isAbsolute(fromCwd) ? fromCwd : path;
  }

  initializing(): void {
    const output = this.#value(SETTINGS.output);
    const outputValid = output === undefined ? true : SETTINGS.output.validate(output, this.#settingContext());
    if (outputValid !== true) throw new Error(`--output ${JSON.stringify(output)}: ${outputValid}`);
    // Inside an existing project (or --output pointing at one) a bare re-run regenerates from its own files.
    this.#project = findProject(output ? resolve(this.contextRoot, output) : this.contextRoot);
    if (output && this.#project && this.#project.root !== resolve(this.contextRoot, output)) this.#project = undefined;

    const features = this.#value(SETTINGS.features);
    const config = this.#value(SETTINGS.config);
    const example = this.#value(SETTINGS.example);
    if ((features === undefined) !== (config === undefined)) {
      throw new Error('--features and --config go together: give both files (or --example, or neither to be asked).');
    }
    if (features && config) {
      if (example) throw new Error('Give either --features/--config or --example, not both.');
      this.#input = this.#loadFiles(resolve(this.contextRoot, features), resolve(this.contextRoot, config));
    } else if (example) {
      this.#input = this.#loadExample(example);
    } else if (this.#project && !PROJECT_ANSWERS.some((name) => this.#value(SETTINGS[name]) !== undefined)) {
      const { root, stored } = this.#project;
      this.log.info(`Regenerating ${root} from its ${stored.features ?? 'features.yaml'} and ${stored.config ?? 'config.yaml'}`);
      this.#input = this.#loadFiles(join(root, stored.features ?? 'features.yaml'), join(root, stored.config ?? 'config.yaml'));
    }
  }

  async prompting(): Promise<void> {
    if (this.#input) return;
    const given: Answers = Object.fromEntries(
      PROJECT_ANSWERS.flatMap((name) => {
        const value = this.#value(SETTINGS[name]);
        return value === undefined ? [] : [[name, value]];
      }),
    );
    const interactive = Boolean(this.options.interactive);
    if (!interactive) {
      const missing = REQUIRED_ANSWERS.filter((name) => given[name] === undefined);
      if (missing.length) {
        throw new Error(
          [
            'Nothing to generate from (and no terminal to ask in). Give one of:',
            '  --features FILE --config FILE        your own features.yaml and config.yaml',
            `  --example ${DEFAULT_EXAMPLE.padEnd(28)}a built-in example`,
            '  --name --task --target --data FILE   a CSV to infer features.yaml from (and --id-field)',
            Object.keys(given).length ? `Missing: ${missing.map((name) => `--${SETTINGS[name].flag}`).join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }
    }
    // Flags answer their questions; only a run with no answers at all is offered the example.
    if (interactive && Object.keys(given).length === 0) {
      const { useExample } = await this.prompt<Answers>([SETTINGS.example.prompt()]);
      if (useExample) {
        this.#input = this.#loadExample(DEFAULT_EXAMPLE);
        return;
      }
    }
    const answers: Answers = { ...given };
    await this.#ask(answers, ['name', 'task', 'data'], interactive);
    const dataPath = resolve(this.contextRoot, answers.data!);
    const table = readCsv(dataPath, this.#label(dataPath));
    await this.#ask(answers, ['target', 'idField'], interactive, table);
    const idField = answers.idField ?? DEFAULT_ID_FIELD;
    this.#input = await this.#draftFromCsv({ ...answers, idField }, table, dataPath, interactive);
  }

  /**
   * In a terminal, offers to write each feature's description, the inferred one as the default answer (a
   * yes/no first: a table of 30 columns is 30 questions).
   */
  async #askDescriptions(features: DraftFeature[]): Promise<void> {
    const { describeFeatures } = await this.prompt<{ describeFeatures: boolean }>([
      {
        type: 'confirm',
        name: 'describeFeatures',
        message: `Describe the ${features.length} features now (shown in /docs)? No keeps the descriptions inferred from the data`,
        default: false,
      },
    ]);
    if (!describeFeatures) return;
    const answers = await this.prompt<Record<string, string>>(
      features.map((feature) => ({
        type: 'input',
        name: `description_${feature.name}`,
        message: `Description of ${feature.name}${feature.column === undefined ? '' : ` (column "${feature.column}")`}`,
        default: feature.description,
      })),
    );
    for (const feature of features) {
      const answer = answers[`description_${feature.name}`]?.trim();
      if (answer) feature.description = answer;
    }
  }

  /** Asks for the settings not given yet (in a terminal), then checks every value, given or answered. */
  async #ask(answers: Answers, names: readonly (typeof PROJECT_ANSWERS)[number][], interactive: boolean, table?: CsvTable) {
    const context = this.#settingContext(table);
    const missing = names.filter((name) => answers[name] === undefined);
    if (interactive && missing.length) {
      const questions = missing.map((name): PromptQuestion<Answers> => {
        const setting: Setting = SETTINGS[name];
        const validate = (value: unknown) => setting.validate?.(String(value), context) ?? true;
        return { ...setting.prompt!(context), validate } as PromptQuestion<Answers>;
      });
      Object.assign(answers, await this.prompt<Answers>(questions));
    }
    const problems = names.flatMap((name) => {
      const value = answers[name];
      const setting: Setting = SETTINGS[name];
      const valid = value === undefined ? true : (setting.validate?.(String(value), context) ?? true);
      return valid === true ? [] : [`  --${setting.flag} ${JSON.stringify(value)}: ${valid}`];
    });
    if (problems.length) throw new Error(`Invalid answers:\n${problems.join('\n')}`);
  }

  /** A column given as the data names it or by its feature name → its feature name, and its own name when that differs. */
  #resolveColumn(table: CsvTable, value: string): { name: string; column?: string } {
    let index = table.header.indexOf(value);
    if (index < 0) index = table.names.indexOf(value);
    if (index < 0) return { name: value };
    const name = table.names[index]!;
    return table.header[index] === name ? { name } : { name, column: table.header[index] };
  }

  async #draftFromCsv(
    answers: Answers & { idField: string },
    table: CsvTable,
    dataSource: string,
    interactive: boolean,
  ): Promise<ResolvedInput> {
    const dataPath = `data/${basename(dataSource)}`;
    const target = this.#resolveColumn(table, answers.target!);
    const id = this.#resolveColumn(table, answers.idField);
    // The task and the target are checked against each other here, not later in training.
    const { errors, warnings } = targetProblems(table, target.name, answers.task!);
    if (errors.length) throw new Error(`${table.label}: ${errors.join('\n')}`);
    for (const warning of warnings) this.log.info(`Warning: ${table.label}: ${warning}`);
    const features = inferFeatures(table, [target.name, id.name]);
    if (interactive) await this.#askDescriptions(features);
    const featuresText = featuresYaml(features, dataPath);
    const configText = configYaml({
      name: answers.name!,
      task: answers.task!,
      target: target.name,
      idField: id.name,
      dataPath,
      targetColumn: target.column,
      idColumn: id.column,
    });
    const spec = parseSpec(featuresText, configText, {
      features: `features.yaml (inferred from ${table.label})`,
      config: 'config.yaml (from your answers)',
    });
    return { spec, featuresText, configText, dataSource };
  }

  #loadExample(example: string): ResolvedInput {
    const valid = SETTINGS.example.validate(example);
    if (valid !== true) throw new Error(`--example: ${valid}`);
    return this.#loadFiles(join(EXAMPLES_ROOT, example, 'features.yaml'), join(EXAMPLES_ROOT, example, 'config.yaml'));
  }

  /** Validates the two files (throws SpecError naming file:line:col field) and finds the data file. */
  #loadFiles(featuresPath: string, configPath: string): ResolvedInput {
    const spec = loadSpec(this.#label(featuresPath), this.#label(configPath));
    const input: ResolvedInput = {
      spec,
      featuresText: readFileSync(featuresPath, 'utf8'),
      configText: readFileSync(configPath, 'utf8'),
    };
    const dataPath = spec.config.data.path;
    const inside = !isAbsolute(dataPath) && !normalize(dataPath).startsWith('..');
    const source = resolve(dirname(configPath), dataPath);
    if (!inside) input.dataNote = `data.path ${dataPath} is outside the project; it is read from there, not copied.`;
    else if (!existsSync(source))
      input.dataNote = `data.path ${dataPath} does not exist next to ${this.#label(configPath)}; put the data there before \`npm run train\`.`;
    else {
      input.dataSource = source;
      this.#checkTarget(spec, source, this.#label(configPath));
    }
    return input;
  }

  /**
   * config.yaml's task against the data's target column (as for a CSV given with --data): a text target for
   * regression stops here, not in training. Skipped for data that is not a readable CSV with that column, or
   * too large to read at every generation (training checks it then).
   */
  #checkTarget(spec: Spec, source: string, configLabel: string): void {
    if (extname(source).toLowerCase() !== '.csv' || statSync(source).size > MAX_CHECKED_DATA_BYTES) return;
    let records: { header: string[]; rows: string[][] };
    try {
      records = readCsvRecords(source, this.#label(source));
    } catch {
      return;
    }
    const column = spec.config.data.target_column ?? spec.config.target;
    if (!records.header.includes(column)) return;
    const table: CsvTable = { label: this.#label(source), ...records, names: records.header };
    const { errors, warnings } = targetProblems(table, column, spec.config.task, { task: 'task: ', target: 'target' });
    if (errors.length) throw new Error(`${configLabel}: ${errors.map((error) => `${error} (data: ${table.label})`).join('\n')}`);
    for (const warning of warnings) this.log.info(`Warning: ${configLabel}: ${warning} (data: ${table.label})`);
  }

  async configuring(): Promise<void> {
    const { spec, featuresText, configText } = this.#input!;
    // Only now, with valid input, may a folder be created: destinationRoot() makes it on the spot.
    const output = this.#value(SETTINGS.output);
    const root = output ? resolve(this.contextRoot, output) : (this.#project?.root ?? resolve(this.contextRoot, spec.config.name));
    this.destinationRoot(root);
    this.env.cwd = root;

    this.fs.write(this.destinationPath('features.yaml'), featuresText);
    this.fs.write(this.destinationPath('config.yaml'), configText);
    this.config.merge(storedSettings(spec));
    // The parts render from the spec loaded and validated here (a part run alone loads it itself).
    for (const part of PART_GENERATORS) {
      const generatorOptions: Partial<PartOptions> = { spec, interactive: this.options.interactive, force: this.options.force };
      await this.composeWith<Generator<StoredProjectConfig, PartOptions>>(partGeneratorPath(part), { generatorOptions });
    }
  }

  writing(): void {
    const { spec, dataSource, dataNote } = this.#input!;
    const destination = this.destinationPath(spec.config.data.path);
    // noGlob: a path is a file's name (a user's `data (2024).csv`), never a pattern.
    if (dataSource && resolve(dataSource) !== destination) this.fs.copy(dataSource, destination, { noGlob: true });
    if (dataNote) this.log.info(dataNote);
  }

  transform(): void {
    this.#conflicts.beforeCommit();
  }

  install(): void {
    this.#conflicts.afterCommit();
  }

  end(): void {
    const { config } = this.#input!.spec;
    const where = relative(this.contextRoot, this.destinationRoot());
    const steps = [
      where ? `cd ${where.includes(' ') ? JSON.stringify(where) : where}` : undefined,
      this.options.skipInstall ? 'npm install' : undefined,
      'fill in src/data/dataLoader.ts, src/model/preprocessor.ts and src/model/train.ts (the model is yours)',
      'npm run train      # load → split → preprocess → train → evaluate → model_bin/',
      'npm start          # serves the model',
      `open http://127.0.0.1:${config.server.port}/docs`,
    ].filter((step): step is string => step !== undefined);
    this.#conflicts.report();
    this.log.writeln(`\n${config.name} is ready in ${this.destinationRoot()}. Next:\n${steps.map((step) => `  ${step}`).join('\n')}\n`);
  }
}
