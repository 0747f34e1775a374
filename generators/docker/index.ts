// yo ml-microservice:docker — renders templates/docker into the project: the production Dockerfile, the
// pipelines' runtime image, .dockerignore, the build, smoke-test and start scripts, and `npm run lint:docker`.
import type { Spec } from '../contract.js';
import { partContext, type PartContext } from '../deploymentNames.js';
import { PartGenerator, type PartOptions } from '../part.js';

export default class DockerGenerator extends PartGenerator<PartContext> {
  protected readonly part = 'docker';
  protected readonly destinationFolder = '';
  protected readonly doneMessage = 'Dockerfiles and scripts re-rendered from config.yaml';

  constructor(args?: string[], options?: PartOptions) {
    super(
      args,
      options,
      'Renders the Dockerfiles (production and pipeline runtime), .dockerignore and the docker/ scripts from config.yaml.',
    );
  }

  protected buildContext(spec: Spec): PartContext {
    return partContext(spec);
  }
}
