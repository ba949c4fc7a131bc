/**
 * `tenkai-ingress-routes`: a tenant's Ingress may only route paths under its own routes, and never
 * a path that overlaps another tenant's route on the same host (the shared ALB matches by prefix:
 * `/payments/admin` would take part of the traffic of the tenant that owns `/payments`, and `/`
 * or `/pay` above it all of it). The same rule as `validate` (spec/domain-checks.ts), enforced on
 * what tenants write to the cluster themselves.
 *
 * CEL cannot read other namespaces' Ingresses, so the platform renders the route table (every
 * tenant's host+path prefixes, ingress.ts `routeTable`) as the policy's param, a ConfigMap in
 * tenkai-system that every apply keeps current; one binding covers every tenant namespace.
 */

import { baseLabels, SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { INGRESSES_IN_TENANTS, POLICY_NAMES, tenantNamespaces } from "./admission-policies.js";
import { routeTable } from "./ingress.js";

const API = "admissionregistration.k8s.io/v1";
/** The params of `tenkai-ingress-routes`: the route table. */
export const ROUTE_TABLE_NAME = "tenkai-routes";

// Each claim of an Ingress is `host` + `path` (a path is absolute: the API validates that before
// admission; a rule without host claims every host, a rule without http the whole host).
const CLAIMS =
  "has(object.spec.rules) ? object.spec.rules.map(r, has(r.http) && has(r.http.paths) ? r.http.paths.map(p, (has(r.host) ? r.host : '') + (has(p.path) && p.path != '' ? p.path : '/')) : [(has(r.host) ? r.host : '') + '/']) : []";
const hostOf = (c: string) => `${c}.substring(0, ${c}.indexOf('/'))`;
const claimPath = (c: string) => `${c}.substring(${c}.indexOf('/'))`;
/** The `path=tenant` entries of the claim's host in the route table. */
const entries = (c: string) =>
  `(has(params.data) && !${c}.startsWith('/') && ${hostOf(c)}.replace('*', '_') in params.data ? params.data[${hostOf(c)}.replace('*', '_')].split(' ') : [])`;
const pathOf = (e: string) => `${e}.split('=')[0]`;
const ownerOf = (e: string) => `${e}.split('=')[1]`;
/** The ALB's prefix match (spec/routes.ts pathCovers): `/a` covers `/a`, `/a/...`; `/` covers all. */
const covers = (prefix: string, path: string) =>
  `(${prefix} == '/' || ${path} == ${prefix} || ${path}.startsWith(${prefix} + '/'))`;
const wildcard = (c: string) => `(${claimPath(c)}.contains('*') || ${claimPath(c)}.contains('?'))`;
const foreign = (c: string, e: string) =>
  `(${ownerOf(e)} != request.namespace && (${covers(pathOf(e), claimPath(c))} || ${covers(claimPath(c), pathOf(e))}))`;
const owned = (c: string) =>
  `${entries(c)}.exists(e, ${ownerOf("e")} == request.namespace && ${covers(pathOf("e"), claimPath(c))})`;
/** The first claim for which `bad` holds, or '' (a variable: messages read it, never re-derive it). */
const firstClaim = (bad: string) =>
  `variables.claims.exists(ps, ps.exists(c, ${bad})) ? variables.claims.map(ps, ps.filter(c, ${bad})).filter(l, size(l) > 0)[0][0] : ''`;

export function routeAdmissionPolicy(platform: Platform): KubeObject[] {
  const labels = baseLabels(platform);
  // Each expression stays small and shallow: the API server compiles and cost-estimates every
  // one on each write of the policy, and nested copies of the table lookup made that take minutes.
  const variables = [
    { name: "claims", expression: CLAIMS },
    { name: "wildcard", expression: firstClaim(wildcard("c")) },
    // `claim path=tenant` of the first claim that overlaps another tenant's route.
    {
      name: "clash",
      expression: `variables.claims.map(ps, ps.map(c, ${entries("c")}.filter(e, ${foreign("c", "e")}).map(e, c + ' ' + e))).map(ps, ps.filter(l, size(l) > 0)).filter(x, size(x) > 0).map(x, x[0][0])`,
    },
    { name: "stray", expression: firstClaim(`!${owned("c")}`) },
    {
      name: "mine",
      expression: `${entries("variables.stray")}.filter(e, ${ownerOf("e")} == request.namespace).map(e, ${pathOf("e")})`,
    },
  ];
  const clash = "variables.clash[0].split(' ')[0]";
  const theirs = "variables.clash[0].split(' ')[1]";
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ROUTE_TABLE_NAME, namespace: SYSTEM_NAMESPACE, labels },
      data: routeTable(platform),
    },
    {
      apiVersion: API,
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: POLICY_NAMES.routes, labels },
      spec: {
        failurePolicy: "Fail",
        paramKind: { apiVersion: "v1", kind: "ConfigMap" },
        matchConstraints: INGRESSES_IN_TENANTS,
        variables,
        validations: [
          {
            expression: "variables.wildcard == ''",
            messageExpression: `'path ' + ${claimPath("variables.wildcard")} + ' has an ALB wildcard (* or ?), which could match other tenants\\' paths; use a plain path prefix with pathType Prefix'`,
            reason: "Forbidden",
          },
          {
            expression: "size(variables.clash) == 0",
            messageExpression: `'route ' + ${clash} + ' overlaps ' + ${hostOf(clash)} + ${pathOf(theirs)} + ', which tenant ' + ${ownerOf(theirs)} + ' owns: on the shared ALB it would take part of ' + ${ownerOf(theirs)} + '\\'s traffic; use a path neither under nor above ' + ${pathOf(theirs)} + ' (or another host), or move the route into tenant ' + ${ownerOf(theirs)} + ' in platform.yaml'`,
            reason: "Forbidden",
          },
          {
            expression: "variables.stray == ''",
            messageExpression: `'route ' + variables.stray + ' is not under a route tenant ' + request.namespace + ' owns (' + (size(variables.mine) == 0 ? 'it owns none on ' + (variables.stray.startsWith('/') ? 'an Ingress rule without host, which matches every host' : ${hostOf("variables.stray")}) : 'it owns on ' + ${hostOf("variables.stray")} + ': ' + variables.mine.join(', ')) + '); add the route to one of its services in platform.yaml and run tenkai apply'`,
            reason: "Forbidden",
          },
        ],
      },
    },
    {
      apiVersion: API,
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: POLICY_NAMES.routes, labels },
      spec: {
        policyName: POLICY_NAMES.routes,
        validationActions: ["Deny"],
        paramRef: { name: ROUTE_TABLE_NAME, namespace: SYSTEM_NAMESPACE, parameterNotFoundAction: "Deny" },
        matchResources: { namespaceSelector: tenantNamespaces },
      },
    },
  ];
}
