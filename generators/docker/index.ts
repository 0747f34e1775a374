// yo ml-microservice:docker — renders dockerfiles/ into the project: the production Dockerfile and .dockerignore at
// its root; the pipelines' runtime image, the build, smoke-test and start scripts and `npm run lint:docker` in docker/.
import { definePart } from '../part.js';

/** The files Docker looks for in the build context's root; the rest of dockerfiles/ goes to docker/. */
const PROJECT_ROOT_FILES: ReadonlySet<string> = new Set(['Dockerfile', '.dockerignore']);

export default definePart({
  name: 'docker',
  description: 'Renders the Dockerfiles (production and pipeline runtime), .dockerignore and the docker/ scripts from config.yaml.',
  templateFolder: 'dockerfiles',
  destinationFolder: 'docker',
  doneMessage: 'Dockerfiles and scripts re-rendered from config.yaml',
  destinationOf: (file) => (PROJECT_ROOT_FILES.has(file) ? file : undefined),
});
