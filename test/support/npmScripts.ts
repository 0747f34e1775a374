// Which npm scripts a shell command runs: `npm run X` (and run-script) and the `npm test` / `npm start` shorthands.
export function npmScriptsIn(command: string): string[] {
  return [...command.matchAll(/\bnpm (?:run(?:-script)? ([\w:.-]+)|(test|start)\b)/g)].map((match) => match[1] ?? match[2]!);
}
