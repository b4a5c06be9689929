#!/usr/bin/env bash
# Installs the tools the deployment checks need (test/deploy-*.test.ts); .ci/run calls it.
# Each step is skipped when its result is already there, so a second run takes about a second.
#   promtool, amtool   Debian packages prometheus, prometheus-alertmanager, caddy (the proxy of
#   caddy, + the shell the compose file: config validation and the failover test) and the shell
#   linter             linter actionlint runs on the workflows' scripts (only if missing; in
#                      containers Debian's policy-rc.d keeps the services from starting)
#   kubeconform        Go module, into .tools/go/bin
#   actionlint         Go module, into .tools/go/bin
#   kustomize          Go module, into .tools/go/bin, only when there is no kubectl (kubectl kustomize)
#   Kubernetes schemas the JSON schemas shipped in the PyPI wheel kubernetes-validate (pinned by
#                      hash), unpacked into .tools/kubernetes-json-schema: kubeconform reads them
#                      offline. They refer to each other by https://kubernetes.io/api/... ids, which
#                      a file loader cannot follow: the unpacking drops the ids and makes the
#                      references relative to the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.tools/go/bin"
mkdir -p "$bin"

KUBECONFORM_VERSION=v0.8.0
ACTIONLINT_VERSION=v1.7.12
KUSTOMIZE_VERSION=v5.7.1
K8S_SCHEMA_VERSION=v1.33.0
K8S_VALIDATE_WHEEL=kubernetes_validate-1.37.0-py3-none-any.whl
K8S_VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9

if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null ||
  ! command -v shellcheck >/dev/null || ! command -v caddy >/dev/null; then
  echo "installing Debian packages: prometheus prometheus-alertmanager caddy shellcheck"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager caddy shellcheck >/dev/null
fi

go_tool() { # name module version
  if [ ! -x "$bin/$1" ]; then
    echo "installing $1 $3 (go install $2)"
    GOTOOLCHAIN=local GOBIN="$bin" GOFLAGS=-trimpath go install "$2@$3"
  fi
}
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
if ! command -v kubectl >/dev/null; then
  go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
fi

schemas=".tools/kubernetes-json-schema/$K8S_SCHEMA_VERSION-local-strict"
if [ ! -f "$schemas/_definitions.json" ]; then
  echo "unpacking the Kubernetes $K8S_SCHEMA_VERSION JSON schemas from $K8S_VALIDATE_WHEEL"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python=python3
  [ -x .tools/venv/bin/python ] && python=.tools/venv/bin/python # the project's venv, if set up
  "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" \
    "kubernetes-validate==1.37.0"
  echo "$K8S_VALIDATE_SHA256  $tmp/$K8S_VALIDATE_WHEEL" | sha256sum -c --quiet -
  python3 - "$tmp/$K8S_VALIDATE_WHEEL" "$K8S_SCHEMA_VERSION" "$schemas" <<'PY'
import json, os, sys, zipfile
wheel, version, dest = sys.argv[1:]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}-local-strict/"
os.makedirs(dest + ".partial", exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".json"):
            schema = json.loads(z.read(name))
            schema.pop("$id", None)
            text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
            with open(os.path.join(dest + ".partial", name[len(prefix):]), "w") as f:
                f.write(text)
os.replace(dest + ".partial", dest)
PY
fi
echo "deploy tools ready (.tools/go/bin, .tools/kubernetes-json-schema)"
