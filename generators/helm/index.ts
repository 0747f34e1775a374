// yo ml-microservice:helm — renders the Helm chart into helm/: the templates verbatim from helm/ (this package's), and
// from config.yaml in code: Chart.yaml, values.yaml (merged into an existing one, see values.ts) and files/ (the
// project's features.yaml and config.yaml, which the chart's ConfigMap serves to the pods, and the service's
// monitoring/ alerts and dashboard, which the chart ships as a PrometheusRule and a Grafana dashboard ConfigMap).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../conflicts.js';
import { CHART_PATH } from '../deploymentNames.js';
import { templatesRoot } from '../packageRoot.js';
import { definePart } from '../part.js';
import { chartYaml, renderValues, valuesObject } from './values.js';

export default definePart({
  name: 'helm',
  description: 'Renders the Helm chart (helm/) from config.yaml; re-running merges values.yaml instead of replacing it.',
  templateFolder: 'helm',
  destinationFolder: CHART_PATH,
  doneMessage: 'Helm chart re-rendered from config.yaml (values.yaml merged)',
  writeComputedFiles(generator, names) {
    const path = (file: string) => generator.destinationPath(CHART_PATH, file);
    generator.fs.write(path('Chart.yaml'), chartYaml(names));
    const valuesPath = path('values.yaml');
    const existing = generator.fs.exists(valuesPath) ? (generator.fs.read(valuesPath) ?? undefined) : undefined;
    generator.fs.write(valuesPath, renderValues(valuesObject(generator.spec.config, names), existing, `${CHART_PATH}/values.yaml`));
    for (const file of ['features.yaml', 'config.yaml'])
      generator.fs.write(path(`files/${file}`), generator.fs.read(generator.destinationPath(file)) ?? '');
    // The alerts and the dashboard the service generator wrote; the chart wraps them in a PrometheusRule and a ConfigMap.
    // The project's monitoring/ files as this run leaves them: the user's edited copy on disk (which the conflict
    // policy keeps), else what this run renders there.
    const record = generator.config.get('generatedFiles') ?? {};
    for (const file of ['prometheus-rules.yml', 'grafana-dashboard.json']) {
      const projectFile = generator.destinationPath('monitoring', file);
      const onDisk = existsSync(projectFile) ? readFileSync(projectFile) : undefined;
      const edited = onDisk !== undefined && record[`monitoring/${file}`] !== sha256(onDisk);
      if (edited) generator.fs.write(path(`files/${file}`), onDisk);
      else
        generator.fs.copy(
          generator.fs.exists(projectFile) ? projectFile : join(templatesRoot, 'service', 'monitoring', file),
          path(`files/${file}`),
          { noGlob: true }, // a project or package folder's name may hold glob characters
        );
    }
  },
});
