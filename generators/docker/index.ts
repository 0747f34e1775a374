// yo ml-microservice:docker — renders dockerfiles/ into the project: the production Dockerfile and .dockerignore at
// its root; the pipelines' runtime image, the build, smoke-test and start scripts and `npm run lint:docker` in docker/.
import type { Spec } from '../contract.js';
import { partContext, type PartContext } from '../deploymentNames.js';
import { PartGenerator, type PartOptions } from '../part.js';

const PROJECT_ROOT_FILES: ReadonlySet<string> = new Set(['Dockerfile', '.dockerignore']);

export default class DockerGenerator extends PartGenerator<PartContext> {
  protected readonly part = 'docker';
  protected readonly templateFolder = 'dockerfiles';
  protected readonly destinationFolder = 'docker';
  protected readonly doneMessage = 'Dockerfiles and scripts re-rendered from config.yaml';

  constructor(args?: string[], options?: PartOptions) {
    super(
      args,
      options,
      'Renders the Dockerfiles (production and pipeline runtime), .dockerignore and the docker/ scripts from config.yaml.',
    );
  }

  /** The files Docker looks for in the build context's root; the rest of dockerfiles/ goes to docker/. */
  protected override destinationOf(file: string): string {
    return PROJECT_ROOT_FILES.has(file) ? file : super.destinationOf(file);
  }

  protected buildContext(spec: Spec): PartContext {
    return partContext(spec);
  }
}
