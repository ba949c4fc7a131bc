#!/usr/bin/env bash
# Re-renders the upstream Helm charts tenkai ships, verbatim, with tenkai's values:
#
#   scripts/render-charts.sh alb <aws-load-balancer-controller git dir>
#   scripts/render-charts.sh cluster-autoscaler <kubernetes/autoscaler git dir>
#
# The git dir is a clone (or bare snapshot) of the upstream repository; the chart is read from
# the pinned tag with `git archive` (never copied into this repository). Helm is built from its
# Go module at the pinned version into ~/.cache/tenkai-helm. The render and its provenance go to
# data/charts/<name>/render.yaml; src/kube/charts.ts fills the ${NAME} placeholders per platform.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBE_VERSION=1.35.0
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:?usage: render-charts.sh alb|cluster-autoscaler GIT_DIR}
gitdir=${2:?usage: render-charts.sh alb|cluster-autoscaler GIT_DIR}

case "$which" in
  alb)
    name=aws-load-balancer-controller
    tag=v3.5.0
    chartpath=helm/aws-load-balancer-controller
    repo=kubernetes-sigs/aws-load-balancer-controller
    ;;
  cluster-autoscaler)
    name=cluster-autoscaler
    tag=cluster-autoscaler-chart-9.59.0
    chartpath=cluster-autoscaler/charts/cluster-autoscaler
    repo=kubernetes/autoscaler
    ;;
  *) echo "unknown chart $which: use alb or cluster-autoscaler" >&2; exit 2 ;;
esac

helm_bin=${HELM:-$HOME/.cache/tenkai-helm/$HELM_VERSION/helm}
if [ ! -x "$helm_bin" ]; then
  mkdir -p "$(dirname "$helm_bin")"
  GOBIN=$(dirname "$helm_bin") go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# A `go install` build carries its module version in the binary's build info (helm's own
# version string is set by its Makefile's ldflags only).
got=$(go version -m "$helm_bin" | awk '$1 == "mod" { print $3 }')
[ "$got" = "$HELM_VERSION" ] || { echo "helm at $helm_bin is $got, want $HELM_VERSION" >&2; exit 1; }

commit=$(git -C "$gitdir" rev-parse "$tag^{commit}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$gitdir" archive "$commit" "$chartpath" | tar -x -C "$work"
chart="$work/$chartpath"
chart_version=$(sed -n 's/^version: *//p' "$chart/Chart.yaml")
app_version=$(sed -n 's/^appVersion: *//p' "$chart/Chart.yaml")
values="$root/data/charts/$name/values.yaml"
out="$root/data/charts/$name/render.yaml"

{
  echo "# Rendered by scripts/render-charts.sh; do not edit by hand (re-run the script)."
  echo "# chart: $repo $chartpath at $tag (commit $commit)"
  echo "# chart version: $chart_version; app version: $app_version"
  echo "# values: data/charts/$name/values.yaml (sha256 $(sha256sum "$values" | cut -c1-64))"
  echo "# helm: $HELM_VERSION (helm.sh/helm/v3/cmd/helm from the Go module proxy); helm template --include-crds --namespace kube-system --kube-version $KUBE_VERSION"
  "$helm_bin" template "$name" "$chart" --namespace kube-system --include-crds \
    --kube-version "$KUBE_VERSION" -f "$values"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat > "$root/data/charts/$name/provenance.json" <<JSON
{
  "chart": "$name",
  "repository": "https://github.com/$repo",
  "path": "$chartpath",
  "tag": "$tag",
  "commit": "$commit",
  "chartVersion": "$chart_version",
  "appVersion": "$app_version",
  "values": "data/charts/$name/values.yaml",
  "helm": "$HELM_VERSION",
  "kubeVersion": "$KUBE_VERSION",
  "command": "helm template $name <chart> --namespace kube-system --include-crds --kube-version $KUBE_VERSION -f data/charts/$name/values.yaml"
}
JSON
echo "rendered $name chart $chart_version (app $app_version) with helm $HELM_VERSION into data/charts/$name/render.yaml"
