// yo ml-microservice:service — renders templates/service into the project from its features.yaml and
// config.yaml. Composed by the app generator; run alone inside a project to re-render after either changed.
import type { Spec } from '../../templates/service/src/spec/load.js';
import { readGeneratorPackageJson } from '../packageRoot.js';
import { PartGenerator, type PartOptions } from '../part.js';
import { buildServiceContext, type ServiceContext } from './context.js';
import { projectPackageJson } from './projectPackage.js';

export type ServiceOptions = PartOptions & { nodePackageManager?: string };

export default class ServiceGenerator extends PartGenerator<ServiceContext> {
  protected readonly part = 'service';
  protected readonly destinationFolder = '';
  protected readonly doneMessage = 'Service re-rendered from features.yaml and config.yaml';
  readonly #generatorPackage = readGeneratorPackageJson();

  constructor(args?: string[], options?: ServiceOptions) {
    super(args, options, 'Renders the service (src/, test/, tsconfig, package.json) from the project’s features.yaml and config.yaml.');
    this.options.skipInstall = Boolean(this.options.skipInstall || this.options['skip-install']);
    (this.options as ServiceOptions).nodePackageManager ??= 'npm';
  }

  override configuring(): void {
    super.configuring();
    // The environment installs when package.json changed, in the folder env.cwd names.
    this.env.cwd = this.destinationRoot();
  }

  protected buildContext(spec: Spec): ServiceContext {
    return buildServiceContext(spec, this.#generatorPackage.version);
  }

  protected override writeComputedFiles(context: ServiceContext): void {
    this.packageJson.merge(projectPackageJson(context, this.#generatorPackage));
  }
}
