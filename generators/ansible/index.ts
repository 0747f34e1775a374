// yo ml-microservice:ansible — renders ansible/: the playbooks verbatim from ansible/ (this package's), and the
// inventory (hosts, user and the deployment's names as group variables) from config.yaml in code.
import { Document, Scalar } from 'yaml';
import type { Config } from '../contract.js';
import { CHART_PATH, type PartContext } from '../deploymentNames.js';
import { definePart } from '../part.js';

/** The add-ons the chart relies on: DNS, the ingress controller, the image registry, helm, the HPA's metrics and PVCs. */
export const MICROK8S_ADDONS = ['dns', 'ingress', 'registry', 'helm3', 'metrics-server', 'hostpath-storage'] as const;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/**
 * A value from config.yaml as Ansible data that is never evaluated as a Jinja2 template (`!unsafe`): config.yaml's
 * schema already refuses template markers, and this keeps a value that slipped past it inert.
 */
export function unsafe(value: string): Scalar<string> {
  const scalar = new Scalar(value);
  scalar.tag = '!unsafe';
  return scalar;
}

export function inventoryYaml(config: Config, names: PartContext): string {
  const { ansible } = config;
  const hosts = Object.fromEntries(
    ansible.hosts.map((host) => [
      host.name,
      LOOPBACK.test(host.address)
        ? { ansible_host: unsafe(host.address), ansible_connection: 'local' }
        : { ansible_host: unsafe(host.address), ansible_user: unsafe(host.user ?? ansible.user) },
    ]),
  );
  const doc = new Document({
    microk8s: {
      hosts,
      vars: {
        microk8s_channel: unsafe(ansible.microk8s_channel),
        microk8s_user: unsafe(ansible.user),
        microk8s_addons: [...MICROK8S_ADDONS],
        service_release: unsafe(names.release),
        service_namespace: unsafe(names.namespace),
        service_image_tag: unsafe(names.version),
        service_chart: `../${CHART_PATH}`,
      },
    },
  });
  doc.commentBefore = [
    ' The MicroK8s hosts, rendered from config.yaml (ansible.hosts, ansible.user, ansible.microk8s_channel) by',
    ' `yo ml-microservice:ansible`. A loopback address is managed without SSH (ansible_connection: local).',
    ' The values from config.yaml are !unsafe: Ansible uses them as they are and never evaluates them as Jinja2.',
    ' Secrets do not belong here: see deploy.yaml.',
  ].join('\n');
  return `---\n${doc.toString({ lineWidth: 0 })}`;
}

export default definePart({
  name: 'ansible',
  description: 'Renders the Ansible inventory and the playbooks that set up MicroK8s and deploy the chart.',
  templateFolder: 'ansible',
  destinationFolder: 'ansible',
  doneMessage: 'Ansible inventory and playbooks re-rendered from config.yaml',
  writeComputedFiles(generator, names) {
    generator.fs.write(generator.destinationPath('ansible', 'inventory.yaml'), inventoryYaml(generator.spec.config, names));
  },
});
