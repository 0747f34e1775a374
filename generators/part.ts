// What every deployment part generator (docker, helm, jenkins, ansible, ci) shares: it runs inside a project
// (found like git finds its repository), reads and validates the project's features.yaml and config.yaml, renders
// its one template folder (a top-level folder of this package: helm/, ansible/, …) into the project, and applies the conflict policy when run alone.
// Composed by the app generator, it only renders: the app loads the spec, resolves conflicts and reports.
import { basename, join, posix, relative } from 'node:path';
import Generator, { type BaseOptions } from 'yeoman-generator';
import { parseSpec, type Spec } from './contract.js';
import { ConflictPolicy, interactiveOption, isTerminal } from './conflicts.js';
import { packageRoot, readUsage } from './packageRoot.js';
import { findProject, type StoredProjectConfig } from './projectRoot.js';
import { listTemplateFiles, type TemplateFile } from './service/templateFiles.js';

export type PartOptions = BaseOptions & {
  interactive?: boolean;
  force?: boolean;
  'skip-install'?: boolean;
  /** Set by the app generator when it composes this one: the app prints the closing message. */
  composedByApp?: boolean;
};

/** Reads and validates the project's features.yaml and config.yaml (from the generator's in-memory file system). */
export function readProjectSpec(generator: Generator<StoredProjectConfig, PartOptions>): Spec {
  const featuresPath = generator.destinationPath('features.yaml');
  const configPath = generator.destinationPath('config.yaml');
  const label = (path: string) => relative(generator.contextRoot, path) || path;
  const missing = [featuresPath, configPath].filter((path) => !generator.fs.exists(path));
  if (missing.length) {
    throw new Error(
      `${missing.map(label).join(' and ')} not found: run this inside a project made by \`yo ml-microservice\` (or \`ml-microservice\`), or generate one first.`,
    );
  }
  return parseSpec(generator.fs.read(featuresPath) ?? '', generator.fs.read(configPath) ?? '', {
    features: label(featuresPath),
    config: label(configPath),
  });
}

export abstract class PartGenerator<Context extends object> extends Generator<StoredProjectConfig, PartOptions> {
  /** The generator's name (`yo ml-microservice:<part>`). */
  protected abstract readonly part: string;
  /** The part's template folder, relative to this package's root (helm, dockerfiles, templates/service, …). */
  protected abstract readonly templateFolder: string;
  /** Project folder the template folder maps onto ('' = the project root). */
  protected abstract readonly destinationFolder: string;
  /** Said when the generator runs alone, after re-rendering. */
  protected abstract readonly doneMessage: string;

  #conflicts = new ConflictPolicy(this);
  #spec?: Spec;

  constructor(args: string[] | undefined, options: PartOptions | undefined, description: string) {
    // The lifecycle methods below run as tasks in the subclasses; the other methods are helpers, never tasks.
    super(args ?? [], options ?? ({} as PartOptions), { inheritTasks: true });
    this.description = description;
    this.option(interactiveOption);
    this.options.interactive ??= isTerminal();
    this.option('force', { type: Boolean, description: 'Overwrite files that differ from the templates without asking' });
  }

  override help(): string {
    return `${super.help()}\n${readUsage(this.part)}`;
  }

  protected get spec(): Spec {
    if (!this.#spec) throw new Error('the spec is read in the configuring step');
    return this.#spec;
  }

  /** The data the part's *.ejs templates are rendered with (and what its code-written files are built from). */
  protected abstract buildContext(spec: Spec): Context;

  /** Which template files to render (by project-relative destination); all by default. */
  protected includes(_destination: string, _context: Context): boolean {
    return true;
  }

  /** Where a template file goes in the project (`file` is relative to the template folder, already renamed). */
  protected destinationOf(file: string): string {
    return this.destinationFolder ? posix.join(this.destinationFolder, file) : file;
  }

  /** Files computed in code (values.yaml, inventory, …), written after the templates. */
  protected writeComputedFiles(_context: Context): void {}

  initializing(): void {
    this.sourceRoot(join(packageRoot, this.templateFolder));
    if (this.options.composedByApp) return;
    const project = findProject(this.destinationRoot());
    if (project) this.destinationRoot(project.root);
  }

  configuring(): void {
    this.#spec = readProjectSpec(this);
  }

  /**
   * The part's template files with their project-relative destinations. As in templates/service, `_name` is
   * written as `.name`; a leading double underscore stands for one literal underscore (Helm's `_helpers.tpl`).
   */
  templateFiles(): TemplateFile[] {
    return listTemplateFiles(this.sourceRoot()).map((file) => {
      const literal = basename(file.source).startsWith('__');
      const destination = literal ? posix.join(posix.dirname(file.destination), basename(file.destination).slice(1)) : file.destination;
      return { ...file, destination: this.destinationOf(destination) };
    });
  }

  writing(): void {
    const context = this.buildContext(this.spec);
    for (const file of this.templateFiles()) {
      if (!this.includes(file.destination, context)) continue;
      const destination = this.destinationPath(file.destination);
      if (file.render) this.fs.copyTpl(file.source, destination, context);
      else this.fs.copy(file.source, destination);
    }
    this.writeComputedFiles(context);
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
    this.log.ok(`${this.doneMessage} in ${this.destinationRoot()}`);
  }
}
