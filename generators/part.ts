// What every part generator (service, docker, helm, jenkins, ansible, ci) shares: it runs inside a project (found
// like git finds its repository), takes the project's validated features.yaml and config.yaml, renders its one
// template folder (a top-level folder of this package: helm/, ansible/, …) into the project, and applies the
// conflict policy when run alone. Composed by the app generator, it renders from the spec the app loaded; the app
// resolves conflicts and reports. A part is declared (PartDeclaration) and made a generator by definePart.
import { basename, join, posix, relative } from 'node:path';
import Generator from 'yeoman-generator';
import { parseSpec, type Spec } from './contract.js';
import { ConflictPolicy } from './conflicts.js';
import { declareOptions, type GeneratorOptions } from './app/options.js';
import { packageRoot, readUsage } from './packageRoot.js';
import { findProject, type StoredProjectConfig } from './projectRoot.js';
import { listTemplateFiles, type TemplateFile } from './service/templateFiles.js';
import { partContext, type PartContext } from './deploymentNames.js';

export type PartOptions = GeneratorOptions & {
  /** The spec the app generator loaded, given when it composes this part: the app prints the closing message. */
  spec?: Spec;
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

/** What makes one part: everything else is the same for every part (PartGenerator). */
export interface PartDeclaration<Context extends object> {
  /** The generator's name (`yo ml-microservice:<name>`) and its folder under generators/ (USAGE). */
  name: string;
  /** Said by --help. */
  description: string;
  /** The part's template folder, relative to this package's root (helm, dockerfiles, templates/service, …). */
  templateFolder: string;
  /** Project folder the template folder maps onto ('' = the project root). */
  destinationFolder: string;
  /** Said when the generator runs alone, after re-rendering. */
  doneMessage: string;
  /** The data the part's *.ejs templates are rendered with (and its code-written files are built from). */
  context(spec: Spec): Context;
  /** Which template files to render (by project-relative destination); all by default. */
  includes?(destination: string, spec: Spec): boolean;
  /** Where a template file goes (`file` relative to the template folder, renamed); default: under destinationFolder. */
  destinationOf?(file: string): string | undefined;
  /** Files computed in code (values.yaml, inventory, …), written after the templates. */
  writeComputedFiles?(generator: PartGenerator<Context>, context: Context): void;
}

export class PartGenerator<Context extends object> extends Generator<StoredProjectConfig, PartOptions> {
  #conflicts = new ConflictPolicy(this);
  #spec?: Spec;

  constructor(
    args: string[] | undefined,
    options: PartOptions | undefined,
    readonly part: PartDeclaration<Context>,
  ) {
    // The lifecycle methods below run as tasks in the subclasses; the other methods are helpers, never tasks.
    super(args ?? [], options ?? ({} as PartOptions), { inheritTasks: true });
    this.description = part.description;
    declareOptions(this, 'every');
  }

  override help(): string {
    return `${super.help()}\n${readUsage(this.part.name)}`;
  }

  /** Composed by the app generator (which loaded the spec, resolves conflicts and reports). */
  get composedByApp(): boolean {
    return this.options.spec !== undefined;
  }

  get spec(): Spec {
    if (!this.#spec) throw new Error('the spec is read in the configuring step');
    return this.#spec;
  }

  initializing(): void {
    this.sourceRoot(join(packageRoot, this.part.templateFolder));
    if (this.composedByApp) return;
    const project = findProject(this.destinationRoot());
    if (project) this.destinationRoot(project.root);
  }

  configuring(): void {
    this.#spec = this.options.spec ?? readProjectSpec(this);
  }

  /**
   * The part's template files with their project-relative destinations. As in templates/service, `_name` is
   * written as `.name`; a leading double underscore stands for one literal underscore (Helm's `_helpers.tpl`).
   */
  templateFiles(): TemplateFile[] {
    const { destinationFolder, destinationOf } = this.part;
    return listTemplateFiles(this.sourceRoot()).map((file) => {
      const literal = basename(file.source).startsWith('__');
      const name = literal ? posix.join(posix.dirname(file.destination), basename(file.destination).slice(1)) : file.destination;
      const destination = destinationOf?.(name) ?? (destinationFolder ? posix.join(destinationFolder, name) : name);
      return { ...file, destination };
    });
  }

  writing(): void {
    const context = this.part.context(this.spec);
    for (const file of this.templateFiles()) {
      if (this.part.includes && !this.part.includes(file.destination, this.spec)) continue;
      const destination = this.destinationPath(file.destination);
      // noGlob: the package may sit in a folder whose name has glob characters (`projects (old)/…`).
      if (file.render) this.fs.copyTpl(file.source, destination, context, { noGlob: true });
      else this.fs.copy(file.source, destination, { noGlob: true });
    }
    this.part.writeComputedFiles?.(this, context);
  }

  transform(): void {
    if (!this.composedByApp) this.#conflicts.beforeCommit();
  }

  install(): void {
    if (!this.composedByApp) this.#conflicts.afterCommit();
  }

  end(): void {
    if (this.composedByApp) return;
    this.#conflicts.report();
    this.log.ok(`${this.part.doneMessage} in ${this.destinationRoot()}`);
  }
}

/** A deployment part's declaration, rendered with the names every part agrees on unless it says otherwise. */
export type DeploymentPart<Context extends PartContext = PartContext> = Omit<PartDeclaration<Context>, 'context'> & {
  context?(spec: Spec): Context;
};

/** The generator class (what yo and the environment instantiate) of a declared part. */
export function definePart<Context extends PartContext = PartContext>(declaration: DeploymentPart<Context>) {
  const part = { context: partContext as (spec: Spec) => Context, ...declaration };
  return class extends PartGenerator<Context> {
    constructor(args?: string[], options?: PartOptions) {
      super(args, options, part);
    }
  };
}
