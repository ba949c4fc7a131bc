/** Routes on the shared ALB: how a path is normalised and which paths a prefix covers. */

/** `/a/` and `/a` are one route; `/` stays `/`. */
export function normalizePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** The ALB matches by prefix: `/a` covers `/a` and everything under `/a/`; `/` covers the whole host. */
export function pathCovers(prefix: string, path: string): boolean {
  return prefix === "/" || path === prefix || path.startsWith(`${prefix}/`);
}
