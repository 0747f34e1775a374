// yo ml-microservice:service — renders templates/service into the project from its features.yaml and
// config.yaml. Composed by the app generator; run alone inside a project to re-render after either changed.
import { join, relative } from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import { parseSpec, type Spec } from '../../templates/service/src/spec/load.js';
import { ConflictPolicy, interactiveOption, isTerminal } from '../conflicts.js';
import { readGeneratorPackageJson, readUsage, templatesRoot } from '../packageRoot.js';
import { findProject, type StoredProjectConfig } from '../projectRoot.js';
import { buildServiceContext, type ServiceContext } from './context.js';
import { projectPackageJson } from './projectPackage.js';
import { listTemplateFiles } from './templateFiles.js';

export type ServiceOptions = BaseOptions & {
  interactive?: boolean;
  force?: boolean;
  'skip-install'?: boolean;
  nodePackageManager?: string;
  /** Set by the app generator when it composes this one: the app prints the closing message. */
  composedByApp?: boolean;
};

export default class ServiceGenerator extends Generator<StoredProjectConfig, ServiceOptions> {
  #spec?: Spec;
  /** Run alone, this generator applies the conflict policy; composed, the app does it for the whole run. */
  #conflicts = new ConflictPolicy(this);

  constructor(args?: string[], options?: ServiceOptions) {
    super(args, options);
    this.description = 'Renders the service (src/, test/, tsconfig, package.json) from the project’s features.yaml and config.yaml.';
    this.option(interactiveOption);
    this.options.interactive ??= isTerminal();
    this.option('force', { type: Boolean, description: 'Overwrite files that differ from the templates without asking' });
    this.sourceRoot(join(templatesRoot, 'service'));
    this.options.skipInstall = Boolean(this.options.skipInstall || this.options['skip-install']);
    this.options.nodePackageManager ??= 'npm';
  }

  override help(): string {
    return `${super.help()}\n${readUsage('service')}`;
  }

  initializing(): void {
    if (this.options.composedByApp) return;
    // Run alone: work on the project around the current folder, like git does.
    const project = findProject(this.destinationRoot());
    if (project) this.destinationRoot(project.root);
  }

  configuring(): void {
    const featuresPath = this.destinationPath('features.yaml');
    const configPath = this.destinationPath('config.yaml');
    const label = (path: string) => relative(this.contextRoot, path) || path;
    const missing = [featuresPath, configPath].filter((path) => !this.fs.exists(path));
    if (missing.length) {
      throw new Error(
        `${missing.map(label).join(' and ')} not found: run this inside a project made by \`yo ml-microservice\` (or \`ml-microservice\`), or generate one first.`,
      );
    }
    this.#spec = parseSpec(this.fs.read(featuresPath) ?? '', this.fs.read(configPath) ?? '', {
      features: label(featuresPath),
      config: label(configPath),
    });
    // The environment installs when package.json changed, in the folder env.cwd names.
    this.env.cwd = this.destinationRoot();
  }

  writing(): void {
    const generatorPackage = readGeneratorPackageJson();
    const context: ServiceContext = buildServiceContext(this.#spec!, generatorPackage.version);
    for (const file of listTemplateFiles(this.sourceRoot())) {
      const destination = this.destinationPath(file.destination);
      if (file.render) this.fs.copyTpl(file.source, destination, context);
      else this.fs.copy(file.source, destination);
    }
    this.packageJson.merge(projectPackageJson(context, generatorPackage));
  }

  transform(): void {
    if (!this.options.composedByApp) this.#conflicts.beforeCommit();
  }

  install(): void {
    if (!this.options.composedByApp) this.#conflicts.afterCommit();
  }

  end(): void {
    if (this.options.composedByApp) return;
    this.#conflicts.report();
    this.log.ok(`Service re-rendered from features.yaml and config.yaml in ${this.destinationRoot()}`);
  }
}
