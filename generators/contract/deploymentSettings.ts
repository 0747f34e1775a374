// The deployment sections of config.yaml (docker, helm, jenkins, ansible, ci): what the Dockerfiles, the Helm chart,
// the Jenkins pipelines, the Ansible playbooks and the CI files are rendered from. Only the generator reads them,
// so only the generator validates them (the service accepts them unread: templates/service/src/contract/serviceSettings.ts). Names and switches
// only, never secrets: credentials are Jenkins credential ids, Ansible Vault / environment variables, or a
// Kubernetes Secret.
import { z } from 'zod';
import { hostNamePattern, hostOrAddress, type DeploymentSection } from '../../templates/service/src/contract/index.js';

/** A container image with a pinned tag (not latest) and/or digest, e.g. node:20.20.2-bookworm-slim. */
const pinnedImage = z
  .string()
  .regex(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    'expected an image reference such as node:20.20.2-bookworm-slim',
  )
  .refine((image) => /:[\w][\w.-]*$|@sha256:/.test(image.replace(/^[^/]*:\d+\//, '')), 'pin the image: give a tag (not latest) or a digest')
  .refine((image) => !/:latest(?:@|$)/.test(image), 'pin the image: "latest" moves; give a version tag');
/** A DNS-1123 name: Kubernetes namespaces, Helm releases, image names. */
const dnsName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS name (letters, digits, dashes; at most 63)');
const hostName = z.string().regex(hostNamePattern, 'expected a host name such as iris.example.com');
/** A DNS-1123 subdomain, e.g. an IngressClass name: dot-separated DNS labels, at most 253 characters. */
const dnsSubdomain = z
  .string()
  .regex(hostNamePattern, 'expected a lower-case DNS subdomain (letters, digits, dashes and dots; at most 253), e.g. public');
/**
 * A URL that is rendered into YAML, a Helm values file and Jenkins: no white space, quotes, backslashes or template
 * markers ({{ }}, {% %}, ${ }), which new URL() alone would let through (it drops newlines and tabs silently).
 */
const renderedUrl = (protocol?: RegExp) =>
  (protocol ? z.url({ protocol }) : z.url()).refine(
    (url) => !/[\s"'`\\<>]|\{\{|\{%|\$\{/.test(url),
    'a URL without spaces, quotes, backslashes, < > or template markers ({{, {%, ${)',
  );
/** A Git branch, tag or commit (Argo CD's targetRevision). */
const gitRevision = z
  .string()
  .regex(/^(?!.*\.\.)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]{1,255}$/, 'expected a Git branch, tag or commit such as HEAD, main or v1.2.0');
const cpu = z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?m?$/, 'expected CPU such as 250m or 1')]);
const memory = z.string().regex(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'expected memory such as 256Mi or 1Gi');
/** Jenkins credential ids name a secret stored in Jenkins; they are not secrets themselves. */
const credentialsId = z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a Jenkins credentials id (letters, digits, . _ -)');

const dockerSchema = z
  .strictObject({
    registry: z
      .string()
      .regex(/^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*$/, 'expected a registry such as localhost:32000 or ghcr.io/my-org')
      .default('localhost:32000'), // MicroK8s's built-in registry
    image: dnsName.optional(), // default: name
    base_image: pinnedImage.default('node:20.20.2-bookworm-slim'), // the production image's base
    runtime_image: pinnedImage.default('node:20.20.2-bookworm'), // the pipelines' image: node plus build tools
  })
  .prefault({});

const helmSchema = z
  .strictObject({
    namespace: dnsName.optional(), // default: name
    replicas: z.number().int().min(1).default(2),
    resources: z
      .strictObject({
        requests: z.strictObject({ cpu: cpu.default('100m'), memory: memory.default('256Mi') }).prefault({}),
        limits: z.strictObject({ cpu: cpu.default('1'), memory: memory.default('512Mi') }).prefault({}),
      })
      .prefault({}),
    ingress: z
      .strictObject({
        enabled: z.boolean().default(false),
        host: hostName.optional(), // default: <name>.local
        class_name: dnsSubdomain.default('public'), // MicroK8s's ingress class
        tls_secret: dnsName.optional(),
      })
      .prefault({}),
    autoscaling: z
      .strictObject({
        enabled: z.boolean().default(true),
        min_replicas: z.number().int().min(1).default(2),
        max_replicas: z.number().int().min(1).default(5),
        target_cpu_percent: z.number().int().min(1).max(100).default(70),
      })
      .prefault({})
      .refine((a) => a.min_replicas <= a.max_replicas, { message: 'min_replicas must not exceed max_replicas', path: ['min_replicas'] }),
    min_available: z.number().int().min(0).default(1), // the PodDisruptionBudget
    service_monitor: z.boolean().default(false), // needs the Prometheus Operator's CRDs
    // A PrometheusRule with monitoring/prometheus-rules.yml's alerts (needs the Prometheus Operator's CRDs).
    prometheus_rule: z.boolean().default(false),
    // A ConfigMap with monitoring/grafana-dashboard.json, labelled for Grafana's dashboard sidecar.
    grafana_dashboard: z.boolean().default(false),
    // Where the chart's AlertmanagerConfig sends the retrain="true" alerts (the retrain receiver,
    // scripts/retrainOnAlert.ts); unset: no AlertmanagerConfig (monitoring/alertmanager.yml shows the route).
    retrain_webhook_url: renderedUrl(/^https?$/).optional(),
    mongodb: z.boolean().default(false), // run a single MongoDB in the release for the prediction log
  })
  .prefault({});

const jenkinsSchema = z
  .strictObject({
    registry_credentials_id: credentialsId.optional(), // username/password for docker login; none for MicroK8s's registry
    deploy: z.boolean().default(false), // build-image ends with helm upgrade --install
    kubeconfig_credentials_id: credentialsId.default('kubeconfig'), // a secret file credential used by that deploy
    controller_image: pinnedImage.default('jenkins/jenkins:2.528.3-lts-jdk21'),
    controller_port: z.number().int().min(1).max(65535).default(8080),
  })
  .prefault({});

const ansibleSchema = z
  .strictObject({
    hosts: z
      .array(
        z.strictObject({
          name: dnsName,
          address: hostOrAddress,
          user: z
            .string()
            .regex(/^[a-z_][a-z0-9_-]*$/, 'expected a Unix user name')
            .optional(),
        }),
      )
      .min(1)
      .default([{ name: 'local', address: '127.0.0.1' }]),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, 'expected a Unix user name')
      .default('ubuntu'), // the SSH user, added to the microk8s group
    microk8s_channel: z
      .string()
      .regex(/^\d+\.\d+\/(stable|candidate|beta|edge)$/, 'expected a snap channel such as 1.32/stable')
      .default('1.32/stable'),
  })
  .prefault({});

const ciSchema = z
  .strictObject({
    github_actions: z.boolean().default(false),
    argocd: z
      .strictObject({
        enabled: z.boolean().default(false),
        repo_url: renderedUrl().optional(), // the Git repository holding this project
        revision: gitRevision.default('HEAD'),
        namespace: dnsName.default('argocd'),
      })
      .prefault({})
      .refine((argocd) => !argocd.enabled || argocd.repo_url, { message: 'argocd.enabled needs repo_url', path: ['repo_url'] }),
  })
  .prefault({});

/** One schema per deployment section of config.yaml. */
export const deploymentSettings = {
  docker: dockerSchema,
  helm: helmSchema,
  jenkins: jenkinsSchema,
  ansible: ansibleSchema,
  ci: ciSchema,
} satisfies Record<DeploymentSection, z.ZodType>;
