// yo ml-microservice:jenkins — renders jenkins/ from config.yaml: the train-model and build-image declarative
// pipelines, and a local controller (image with the plugins, Configuration as Code defining both jobs) with the
// script that starts it.
import { partContext, type PartContext } from '../deploymentNames.js';
import { definePart } from '../part.js';

export interface JenkinsContext extends PartContext {
  deploy: boolean;
  registryCredentialsId?: string;
  kubeconfigCredentialsId: string;
  controllerImage: string;
  controllerPort: number;
}

export default definePart<JenkinsContext>({
  name: 'jenkins',
  description: 'Renders the Jenkins pipelines (train-model, build-image) and a local controller with its start script.',
  templateFolder: 'jenkins',
  destinationFolder: 'jenkins',
  doneMessage: 'Jenkins pipelines and controller re-rendered from config.yaml',
  context(spec) {
    const { jenkins } = spec.config;
    return {
      ...partContext(spec),
      deploy: jenkins.deploy,
      registryCredentialsId: jenkins.registry_credentials_id,
      kubeconfigCredentialsId: jenkins.kubeconfig_credentials_id,
      controllerImage: jenkins.controller_image,
      controllerPort: jenkins.controller_port,
    };
  },
});
