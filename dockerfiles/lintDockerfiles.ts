// `npm run lint:docker`: checks the project's Dockerfiles for the practices the images rely on, with a real
// Dockerfile parser (dockerfile-ast). Run by the build-image pipeline before anything is built, and by hand.
//
//   every FROM is pinned (a version tag, not latest, or a digest) · the last stage runs as a non-root USER ·
//   HEALTHCHECK is declared · CMD/ENTRYPOINT use the exec form and start node, never npm (npm does not pass
//   SIGTERM on) · COPY, not ADD · npm ci, not npm install · apt-get with -y, --no-install-recommends and its
//   lists removed · absolute WORKDIR · nothing a COPY needs is excluded by .dockerignore · and for the service
//   image: several stages, production dependencies only, the model and the spec files copied in, a port exposed.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';

export type Profile = 'service' | 'tool';

export interface Problem {
  /** 1-based line of the instruction. */
  line: number;
  rule: string;
  message: string;
}

/** The Dockerfiles of this project and what each must be. */
export const DOCKERFILES: readonly { path: string; profile: Profile }[] = [
  { path: 'Dockerfile', profile: 'service' },
  { path: 'docker/runtime.Dockerfile', profile: 'tool' },
  { path: 'jenkins/controller/Dockerfile', profile: 'tool' },
];

const lineOf = (instruction: Instruction) => instruction.getRange().start.line + 1;

/** `${NAME}` / `$NAME` replaced by the ARG defaults declared before the first FROM. */
function expand(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => args.get(braced ?? bare ?? '') ?? whole,
  );
}

/** Why an image reference is not pinned, or undefined when it is. */
export function unpinnedReason(image: string): string | undefined {
  if (image.includes('$')) return `${image} is not resolved by an ARG default`;
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
  const tag = /:([\w][\w.-]*)$/.exec(image.replace(/^[^/]*:\d+\//, ''))?.[1];
  if (!tag) return `${image} has no tag: pin a version`;
  if (tag === 'latest') return `${image} uses latest: pin a version`;
  return undefined;
}

/** A .dockerignore pattern as a matcher of context-relative paths (a pattern also excludes what is below it). */
function ignoreMatcher(pattern: string): (path: string) => boolean {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('')
    .map((char) => (char === '*' ? '[^/]*' : char === '?' ? '[^/]' : /[\\^$.|+(){}[\]]/.test(char) ? `\\${char}` : char))
    .join('')
    .replaceAll('[^/]*[^/]*', '.*');
  const regex = new RegExp(`^${source}(?:/.*)?$`);
  return (path) => regex.test(path.replace(/^\.\/+|\/+$/g, ''));
}

export function isIgnored(path: string, dockerignore: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    if (ignoreMatcher(negated ? line.slice(1) : line)(path)) ignored = !negated;
  }
  return ignored;
}

/** The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, or undefined for the shell form. */
function execForm(text: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function lintDockerfile(text: string, profile: Profile, dockerignore = ''): Problem[] {
  const dockerfile = DockerfileParser.parse(text);
  const problems: Problem[] = [];
  const report = (instruction: Instruction | undefined, rule: string, message: string) =>
    problems.push({ line: instruction ? lineOf(instruction) : 1, rule, message });

  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property?.getName() && property.getValue() !== null) args.set(property.getName(), property.getValue()!);
  }

  const froms = dockerfile.getFROMs();
  if (!froms.length) report(undefined, 'from', 'no FROM instruction');
  const stages = new Set<string>();
  for (const from of froms) {
    const image = expand(from.getImage() ?? '', args);
    if (!stages.has(image)) {
      const reason = unpinnedReason(image);
      if (reason) report(from, 'pinned-base', reason);
    }
    const stage = from.getBuildStage();
    if (stage) stages.add(stage);
  }

  const instructions = dockerfile.getInstructions();
  const lastFrom = froms.at(-1);
  const finalStage = lastFrom ? instructions.filter((instruction) => lineOf(instruction) > lineOf(lastFrom)) : [];
  const keyword = (instruction: Instruction) => instruction.getKeyword().toUpperCase();

  for (const instruction of instructions) {
    const content = instruction.getArgumentsContent() ?? '';
    switch (keyword(instruction)) {
      case 'ADD':
        report(instruction, 'copy-not-add', 'use COPY: ADD also fetches URLs and unpacks archives');
        break;
      case 'WORKDIR':
        if (!expand(content, args).startsWith('/')) report(instruction, 'absolute-workdir', `WORKDIR ${content} is not absolute`);
        break;
      case 'RUN':
        if (/\bnpm (install|i)\b/.test(content)) report(instruction, 'npm-ci', 'use npm ci: it installs exactly the lockfile');
        if (/\bsudo\b/.test(content)) report(instruction, 'no-sudo', 'sudo in a build step');
        if (/\bcurl\b[^|]*\|\s*(ba)?sh\b/.test(content)) report(instruction, 'no-pipe-to-shell', 'piping a download into a shell');
        if (/\bapt-get install\b/.test(content)) {
          if (!/\s-y\b|--yes\b/.test(content)) report(instruction, 'apt-get-yes', 'apt-get install without -y');
          if (!content.includes('--no-install-recommends'))
            report(instruction, 'apt-get-recommends', 'apt-get install without --no-install-recommends');
          if (!/rm -rf \/var\/lib\/apt\/lists/.test(content))
            report(instruction, 'apt-get-lists', 'remove /var/lib/apt/lists in the same RUN');
        }
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const argv = execForm(content);
        if (!argv) report(instruction, 'exec-form', `${keyword(instruction)} in shell form: a shell becomes PID 1 and swallows SIGTERM`);
        else if (['npm', 'yarn', 'pnpm', 'npx'].includes(argv[0] ?? ''))
          report(
            instruction,
            'signals',
            `${keyword(instruction)} starts ${argv[0]}, which does not pass SIGTERM to node: start node directly`,
          );
        break;
      }
      case 'COPY': {
        if (!(instruction instanceof Copy) || instruction.getFromFlag()) break;
        const sources = instruction.getArguments().slice(0, -1);
        for (const source of sources) {
          if (isIgnored(source.getValue(), dockerignore))
            report(instruction, 'dockerignore', `${source.getValue()} is copied but excluded by .dockerignore`);
        }
        break;
      }
    }
  }

  const users = finalStage.filter((instruction) => keyword(instruction) === 'USER');
  const user = users.at(-1)?.getArgumentsContent()?.split(':')[0];
  if (!user) report(lastFrom, 'non-root', 'the final stage sets no USER: the container would run as root');
  else if (user === 'root' || user === '0') report(users.at(-1), 'non-root', 'the final stage runs as root');
  if (!finalStage.some((instruction) => keyword(instruction) === 'HEALTHCHECK'))
    report(lastFrom, 'healthcheck', 'no HEALTHCHECK (declare HEALTHCHECK NONE for an image with nothing to check)');

  if (profile === 'service') {
    if (froms.length < 2) report(lastFrom, 'multi-stage', 'build in one stage and run in another, so the image holds no build tools');
    // One line per instruction: a RUN continued over lines (`\` at the end) is one command.
    const finalText = finalStage
      .map((instruction) => `${keyword(instruction)} ${(instruction.getArgumentsContent() ?? '').replace(/\\\r?\n\s*/g, ' ')}`)
      .join('\n');
    if (!/RUN .*npm ci .*--omit=dev/.test(finalText))
      report(lastFrom, 'production-deps', 'the final stage must install with npm ci --omit=dev');
    for (const needed of ['model_bin', 'features.yaml', 'config.yaml', 'dist'])
      if (!new RegExp(`COPY .*\\b${needed.replace('.', '\\.')}\\b`).test(finalText))
        report(lastFrom, 'contents', `the final stage does not copy ${needed}`);
    if (!finalStage.some((instruction) => keyword(instruction) === 'EXPOSE'))
      report(lastFrom, 'expose', 'no EXPOSE: say which port the service listens on');
    const cmd = finalStage.filter((instruction) => keyword(instruction) === 'CMD').at(-1);
    if (!cmd) report(lastFrom, 'cmd', 'the final stage has no CMD');
    else if (execForm(cmd.getArgumentsContent() ?? '')?.[0] !== 'node') report(cmd, 'signals', 'CMD must start node');
  }
  return problems.sort((a, b) => a.line - b.line);
}

function main(): void {
  const dockerignore = existsSync('.dockerignore') ? readFileSync('.dockerignore', 'utf8') : '';
  let failed = 0;
  for (const { path, profile } of DOCKERFILES) {
    if (!existsSync(path)) continue;
    const problems = lintDockerfile(readFileSync(path, 'utf8'), profile, profile === 'service' ? dockerignore : '');
    for (const problem of problems) console.error(`${path}:${problem.line} ${problem.rule}: ${problem.message}`);
    failed += problems.length;
    if (!problems.length) console.log(`${path}: ok`);
  }
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
