// yo ml-microservice:service — renders templates/service into the project from its features.yaml and
// config.yaml. Composed by the app generator; run alone inside a project to re-render after either changed.
import { existsSync, readFileSync } from 'node:fs';
import { readGeneratorPackageJson } from '../packageRoot.js';
import { PartGenerator, type PartDeclaration, type PartOptions } from '../part.js';
import { buildServiceContext, type ServiceContext } from './context.js';
import { sha256 } from '../conflicts.js';
import { keptPackageFieldsMessage, mergeProjectPackageJson, projectPackageJson, type KeptPackageField } from './projectPackage.js';

const generatorPackage = readGeneratorPackageJson();

const SERVICE: PartDeclaration<ServiceContext> = {
  name: 'service',
  description: 'Renders the service (src/, test/, tsconfig, package.json) from the project’s features.yaml and config.yaml.',
  templateFolder: 'templates/service',
  destinationFolder: '',
  doneMessage: 'Service re-rendered from features.yaml and config.yaml',
  context: (spec) => buildServiceContext(spec, generatorPackage.version),
  writeComputedFiles: (generator, context) => (generator as ServiceGenerator).writePackageJson(context),
};

export default class ServiceGenerator extends PartGenerator<ServiceContext> {
  #keptPackageFields: KeptPackageField[] = [];

  constructor(args?: string[], options?: PartOptions) {
    super(args, options, SERVICE);
    // The environment's `npm install` (a child of this process) inherits it: onnxruntime-node's install script
    // then skips its CUDA download (inference is CPU-only). An environment variable rather than a .npmrc key,
    // which npm warns "will stop working in the next major version"; a value the user set (cuda12) is kept.
    if (!this.options.skipInstall) process.env.ONNXRUNTIME_NODE_INSTALL ??= 'skip';
  }

  override configuring(): void {
    super.configuring();
    // The environment installs when package.json changed, in the folder env.cwd names.
    this.env.cwd = this.destinationRoot();
  }

  /**
   * package.json is merged, not overwritten: the user's own fields stay, and a generator-owned field (name,
   * version, a script, a dependency's version, …) the user changed since the last run keeps the user's value
   * unless --force. What the generator last wrote is remembered in .yo-rc.json to tell the two apart.
   */
  writePackageJson(context: ServiceContext): void {
    const path = this.destinationPath('package.json');
    const generated = projectPackageJson(context, generatorPackage);
    const onDisk = this.fs.readJSON(path) as Record<string, unknown> | undefined;
    let previous = this.config.get('generatedPackageJson');
    // A project generated before the fields were remembered: a file still as generated is entirely the generator's.
    if (!previous && existsSync(path) && this.config.get('generatedFiles')?.['package.json'] === sha256(readFileSync(path)))
      previous = onDisk;
    this.#removeOldNpmrc();
    const { merged, kept } = mergeProjectPackageJson(onDisk, generated, previous, Boolean(this.options.force));
    this.#keptPackageFields = kept;
    this.fs.writeJSON(path, merged);
    this.config.set('generatedPackageJson', generated);
  }

  /**
   * Projects generated before got a .npmrc whose only key, onnxruntime-node-install=skip, makes npm warn on every
   * command ("will stop working in the next major version"); the setting is now ONNXRUNTIME_NODE_INSTALL in the
   * environment. The file goes when it is still as the generator wrote it; an edited one is kept, with a hint.
   */
  #removeOldNpmrc(): void {
    const path = this.destinationPath('.npmrc');
    if (!existsSync(path)) return;
    const record = this.config.get('generatedFiles');
    if (record?.['.npmrc'] === sha256(readFileSync(path))) {
      this.fs.delete(path);
      // Removing a file the generator wrote and the user never changed needs no question (as overwriting it).
      (this.env.sharedFs.get(path) as { conflicter?: string }).conflicter = 'force';
      this.config.set('generatedFiles', Object.fromEntries(Object.entries(record).filter(([name]) => name !== '.npmrc')));
      this.log.info('Removed .npmrc: its onnxruntime-node-install key is now ONNXRUNTIME_NODE_INSTALL=skip in the environment');
    } else if (readFileSync(path, 'utf8').includes('onnxruntime-node-install')) {
      this.log.info(
        '.npmrc: npm warns about the onnxruntime-node-install key; set ONNXRUNTIME_NODE_INSTALL=skip in the environment instead',
      );
    }
  }

  override end(): void {
    if (this.#keptPackageFields.length) this.log.writeln(`\n${keptPackageFieldsMessage(this.#keptPackageFields)}`);
    super.end();
  }
}
