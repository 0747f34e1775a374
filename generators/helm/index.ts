// yo ml-microservice:helm — renders the Helm chart into helm/: the templates verbatim from helm/ (this package's), and
// from config.yaml in code: Chart.yaml, values.yaml (merged into an existing one, see values.ts) and files/ (the
// project's features.yaml and config.yaml, which the chart's ConfigMap serves to the pods, and the service's
// monitoring/ alerts and dashboard, which the chart ships as a PrometheusRule and a Grafana dashboard ConfigMap).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../contract.js';
import { sha256 } from '../conflicts.js';
import { CHART_PATH, partContext, type PartContext } from '../deploymentNames.js';
import { templatesRoot } from '../packageRoot.js';
import { PartGenerator, type PartOptions } from '../part.js';
import { chartYaml, renderValues, valuesObject } from './values.js';

export default class HelmGenerator extends PartGenerator<PartContext> {
  protected readonly part = 'helm';
  protected readonly templateFolder = 'helm';
  protected readonly destinationFolder = CHART_PATH;
  protected readonly doneMessage = 'Helm chart re-rendered from config.yaml (values.yaml merged)';

  constructor(args?: string[], options?: PartOptions) {
    super(args, options, 'Renders the Helm chart (helm/) from config.yaml; re-running merges values.yaml instead of replacing it.');
  }

  protected buildContext(spec: Spec): PartContext {
    return partContext(spec);
  }

  protected override writeComputedFiles(names: PartContext): void {
    const path = (file: string) => this.destinationPath(CHART_PATH, file);
    this.fs.write(path('Chart.yaml'), chartYaml(names));
    const valuesPath = path('values.yaml');
    const existing = this.fs.exists(valuesPath) ? (this.fs.read(valuesPath) ?? undefined) : undefined;
    this.fs.write(valuesPath, renderValues(valuesObject(this.spec.config, names), existing, `${CHART_PATH}/values.yaml`));
    for (const file of ['features.yaml', 'config.yaml'])
      this.fs.write(path(`files/${file}`), this.fs.read(this.destinationPath(file)) ?? '');
    // The alerts and the dashboard the service generator wrote; the chart wraps them in a PrometheusRule and a ConfigMap.
    // The project's monitoring/ files as this run leaves them: the user's edited copy on disk (which the conflict
    // policy keeps), else what this run renders there.
    const record = this.config.get('generatedFiles') ?? {};
    for (const file of ['prometheus-rules.yml', 'grafana-dashboard.json']) {
      const projectFile = this.destinationPath('monitoring', file);
      const onDisk = existsSync(projectFile) ? readFileSync(projectFile) : undefined;
      const edited = onDisk !== undefined && record[`monitoring/${file}`] !== sha256(onDisk);
      if (edited) this.fs.write(path(`files/${file}`), onDisk);
      else
        this.fs.copy(this.fs.exists(projectFile) ? projectFile : join(templatesRoot, 'service', 'monitoring', file), path(`files/${file}`));
    }
  }
}
