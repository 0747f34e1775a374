// yo ml-microservice:jenkins — renders jenkins/ from config.yaml: the train-model and build-image declarative
// pipelines, and a local controller (image with the plugins, Configuration as Code defining both jobs) with the
// script that starts it.
import type { Spec } from '../contract.js';
import { partContext, type PartContext } from '../deploymentNames.js';
import { PartGenerator, type PartOptions } from '../part.js';

export interface JenkinsContext extends PartContext {
  deploy: boolean;
  registryCredentialsId?: string;
  kubeconfigCredentialsId: string;
  controllerImage: string;
  controllerPort: number;
}

export default class JenkinsGenerator extends PartGenerator<JenkinsContext> {
  protected readonly part = 'jenkins';
  protected readonly templateFolder = 'jenkins';
  protected readonly destinationFolder = 'jenkins';
  protected readonly doneMessage = 'Jenkins pipelines and controller re-rendered from config.yaml';

  constructor(args?: string[], options?: PartOptions) {
    super(args, options, 'Renders the Jenkins pipelines (train-model, build-image) and a local controller with its start script.');
  }

  protected buildContext(spec: Spec): JenkinsContext {
    const { jenkins } = spec.config;
    return {
      ...partContext(spec),
      deploy: jenkins.deploy,
      registryCredentialsId: jenkins.registry_credentials_id,
      kubeconfigCredentialsId: jenkins.kubeconfig_credentials_id,
      controllerImage: jenkins.controller_image,
      controllerPort: jenkins.controller_port,
    };
  }
}
