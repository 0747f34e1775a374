// The live dashboard (GET /dashboard): a page, its script and its style sheet, served as they are from static/
// (`npm run build` copies that folder next to the compiled code). The page holds no data: its script reads
// /metrics, /monitoring and /ready with the API key the user types in, so the files themselves need no key. They
// are separate files, never inline, so the service's Content-Security-Policy (script-src 'self') lets them run.
import { readFileSync } from 'node:fs';

/** A file as the route table answers it. */
export interface DashboardFile {
  text: string;
  contentType: string;
}

export interface DashboardFiles {
  page: DashboardFile;
  script: DashboardFile;
  style: DashboardFile;
}

/** Where the page and its files are served; the page names the other two. */
export const DASHBOARD_PATHS = {
  page: '/dashboard',
  script: '/dashboard/dashboard.js',
  style: '/dashboard/dashboard.css',
} as const;

const STATIC = new URL('./static/', import.meta.url);

let files: DashboardFiles | undefined;

/** The dashboard's files, read once (at start-up, when the route table is built). */
export function dashboardFiles(): DashboardFiles {
  files ??= {
    page: read('index.html', 'text/html; charset=utf-8'),
    script: read('dashboard.js', 'text/javascript; charset=utf-8'),
    style: read('dashboard.css', 'text/css; charset=utf-8'),
  };
  return files;
}

function read(name: string, contentType: string): DashboardFile {
  const url = new URL(name, STATIC);
  try {
    return { text: readFileSync(url, 'utf8'), contentType };
  } catch (error) {
    throw new Error(`The dashboard's file ${url.pathname} cannot be read (npm run build copies src/http/dashboard/static/ into dist/)`, {
      cause: error,
    });
  }
}
