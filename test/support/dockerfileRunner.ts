// Runs what a Dockerfile says, without a Docker engine: each stage gets a folder standing for its file system,
// and its instructions are carried out in order — ARG, ENV, WORKDIR, COPY (from the build context or an earlier
// stage, refusing sources that .dockerignore excludes) and RUN (the exact command, with `sh -c`, in the stage's
// working directory and environment). What the base image would bring is this machine's: node and npm. The final
// stage's CMD, HEALTHCHECK, USER and EXPOSE are returned for the caller to run and check.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Copy, DockerfileParser, Env, Healthcheck, type Instruction } from 'dockerfile-ast';
import { isIgnored } from '../../dockerfiles/lintDockerfiles.js';

const execFileAsync = promisify(execFile);

export interface Stage {
  name?: string;
  /** The folder standing for the stage's root file system. */
  root: string;
  workdir: string;
  env: Record<string, string>;
}

export interface DockerfileRun {
  final: Stage;
  /** The folder of the final stage's WORKDIR. */
  workdir: string;
  cmd: string[];
  healthcheck?: string[];
  user?: string;
  expose: string[];
  /** Every RUN command executed, in order, with its stage. */
  ran: { stage: string; command: string }[];
}

const inStage = (stage: Stage, path: string) => join(stage.root, path.startsWith('/') ? path : join(stage.workdir, path));

function jsonArray(text: string, what: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`${what} is not an exec-form array`);
  return parsed;
}

export async function runDockerfile(
  dockerfilePath: string,
  context: string,
  workRoot: string,
  { env = {} }: { env?: Record<string, string> } = {},
): Promise<DockerfileRun> {
  const dockerfile = DockerfileParser.parse(readFileSync(dockerfilePath, 'utf8'));
  const dockerignore = existsSync(join(context, '.dockerignore')) ? readFileSync(join(context, '.dockerignore'), 'utf8') : '';
  const args = new Map<string, string>();
  const stages = new Map<string, Stage>();
  const ran: DockerfileRun['ran'] = [];
  let stage: Stage | undefined;
  let count = 0;
  let cmd: string[] = [];
  let healthcheck: string[] | undefined;
  let user: string | undefined;
  let expose: string[] = [];
  const expand = (text: string) =>
    text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a?: string, b?: string) => stage?.env[a ?? b ?? ''] ?? args.get(a ?? b ?? '') ?? whole);

  const current = (instruction: Instruction): Stage => {
    if (!stage) throw new Error(`${instruction.getKeyword()} before FROM`);
    return stage;
  };

  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    const content = instruction.getArgumentsContent() ?? '';
    switch (keyword) {
      case 'ARG': {
        const [name, value = ''] = content.split('=', 2) as [string, string?];
        if (!args.has(name)) args.set(name, value);
        break;
      }
      case 'FROM': {
        const [image = '', , name] = instruction.getArguments().map((argument) => expand(argument.getValue()));
        const root = join(workRoot, `stage-${count++}`);
        const base = stages.get(image);
        if (base) cpSync(base.root, root, { recursive: true });
        else mkdirSync(root, { recursive: true });
        stage = { name, root, workdir: base?.workdir ?? '/', env: { ...base?.env } };
        if (name) stages.set(name, stage);
        cmd = [];
        healthcheck = undefined;
        user = undefined;
        expose = [];
        break;
      }
      case 'ENV':
        for (const property of (instruction as Env).getProperties())
          current(instruction).env[property.getName()] = expand(property.getValue() ?? '');
        break;
      case 'WORKDIR': {
        const target = current(instruction);
        target.workdir = expand(content).startsWith('/') ? expand(content) : join(target.workdir, expand(content));
        mkdirSync(join(target.root, target.workdir), { recursive: true });
        break;
      }
      case 'COPY': {
        const target = current(instruction);
        const fromStage = (instruction as Copy).getFromFlag()?.getValue();
        const source = fromStage ? stages.get(fromStage) : undefined;
        if (fromStage && !source) throw new Error(`COPY --from=${fromStage}: no such stage`);
        const paths = instruction.getArguments().map((argument) => expand(argument.getValue()));
        const destination = paths.pop()!;
        const toDirectory = paths.length > 1 || destination.endsWith('/') || destination === '.';
        for (const path of paths) {
          if (!source && isIgnored(path, dockerignore)) throw new Error(`COPY ${path}: excluded by .dockerignore, the build would fail`);
          const from = source ? join(source.root, path) : join(context, path);
          if (!existsSync(from)) throw new Error(`COPY ${path}: not found in ${source ? `stage ${fromStage}` : 'the build context'}`);
          const to = inStage(target, toDirectory && !statSync(from).isDirectory() ? join(destination, basename(path)) : destination);
          cpSync(from, to, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const target = current(instruction);
        ran.push({ stage: target.name ?? `stage ${count - 1}`, command: content });
        try {
          await execFileAsync('sh', ['-c', content], {
            cwd: join(target.root, target.workdir),
            env: { ...process.env, ...target.env, ...env },
            timeout: 600_000,
            maxBuffer: 64 * 1024 * 1024,
          });
        } catch (error) {
          const { stdout, stderr } = error as { stdout?: string; stderr?: string };
          throw new Error(`RUN ${content} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
        }
        break;
      }
      case 'CMD':
        cmd = jsonArray(content, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const subcommand = (instruction as Healthcheck).getSubcommand()?.getValue().toUpperCase();
        healthcheck = subcommand === 'CMD' ? jsonArray(content.slice(content.indexOf('[')), 'HEALTHCHECK CMD') : undefined;
        break;
      }
      case 'USER':
        user = content;
        break;
      case 'EXPOSE':
        expose = instruction.getArguments().map((argument) => expand(argument.getValue()));
        break;
      default:
        throw new Error(`${keyword} is not supported by this runner`);
    }
  }
  if (!stage) throw new Error('no FROM');
  return { final: stage, workdir: join(stage.root, stage.workdir), cmd, healthcheck, user, expose, ran };
}
