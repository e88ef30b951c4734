#!/usr/bin/env bash
# Builds the release tree in dist/:
#   dist/task/ppalm/      the Azure DevOps task: task.json, index.js, bin/ppalm-<os>-<arch>[.exe]
#   dist/action/          the GitHub Action tree for a release tag: action.yml, shim/index.js,
#                         shim/bin/..., .github/workflows/ (the reusable workflows)
#   dist/ppalm-<version>.vsix  the Azure DevOps extension (a zip; built without tfx)
# Usage: scripts/dist.sh [version]   (default: 1.0.0, or $VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-${VERSION:-1.0.0}}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "dist: version \"$version\" must be MAJOR.MINOR.PATCH" >&2; exit 1; }
command -v zip >/dev/null || { echo "dist: zip is not installed" >&2; exit 1; }

rm -rf dist
task=dist/task/ppalm
action=dist/action
ext=dist/extension
mkdir -p "$task/bin" "$action/shim/bin" "$ext/tasks"

platforms=(linux/amd64 linux/arm64 windows/amd64 darwin/arm64)
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  out="$task/bin/ppalm-$os-$arch"
  [[ $os == windows ]] && out+=.exe
  echo "build $out"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "-s -w -X github.com/ppalm/ppalm/cli.version=$version" -o "$out" ./cmd/ppalm
  chmod 0755 "$out"
done

# The task: the agent picks Node24 or Node20_1 from task.json; the patch
# version follows the release so agents do not reuse a cached older task.
IFS=. read -r major minor patch <<<"$version"
sed -e "s/\"Major\": [0-9]*/\"Major\": $major/" -e "s/\"Minor\": [0-9]*/\"Minor\": $minor/" -e "s/\"Patch\": [0-9]*/\"Patch\": $patch/" task.json >"$task/task.json"
cp shim/index.js "$task/index.js"

# The action: same shim, binaries next to it. Commit this tree on a release
# tag with `git update-index --chmod=+x` for the binaries (the shim chmods
# them too).
cp action.yml "$action/action.yml"
cp shim/index.js "$action/shim/index.js"
cp "$task"/bin/* "$action/shim/bin/"
# Reusable workflows are only callable from .github/workflows of the tag.
mkdir -p "$action/.github/workflows"
cp templates/github/*.yml "$action/.github/workflows/"

# The extension: vss-extension.json for tfx users, plus the three files tfx
# would generate, so the .vsix can be built with zip alone.
cp -R "$task" "$ext/tasks/ppalm"
sed -e "s/\"version\": \"[^\"]*\"/\"version\": \"$version\"/" vss-extension.json >"$ext/vss-extension.json"
cat >"$ext/extension.vsomanifest" <<JSON
{"manifestVersion":1.0,"scopes":[],"contributionTypes":[],"contributions":[{"id":"ppalm-task","type":"ms.vss-distributed-task.task","targets":["ms.vss-distributed-task.tasks"],"properties":{"name":"tasks/ppalm"}}]}
JSON
cat >"$ext/extension.vsixmanifest" <<XML
<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="ppalm" Version="$version" Publisher="ppalm"/>
    <DisplayName>ppalm: Power Platform ALM</DisplayName>
    <Description xml:space="preserve">Export, unpack, commit, pack, import and configure Dataverse solutions with one static binary.</Description>
    <Categories>Azure Pipelines</Categories>
    <Properties/>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Services"/>
  </Installation>
  <Dependencies/>
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Services.Manifest" d:Source="File" Path="extension.vsomanifest" Addressable="true"/>
  </Assets>
</PackageManifest>
XML
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
  echo '  <Default Extension=".json" ContentType="application/json"/>'
  echo '  <Default Extension=".js" ContentType="application/javascript"/>'
  echo '  <Default Extension=".exe" ContentType="application/octet-stream"/>'
  echo '  <Default Extension=".vsixmanifest" ContentType="text/xml"/>'
  echo '  <Default Extension=".vsomanifest" ContentType="application/json"/>'
  for f in "$ext"/tasks/ppalm/bin/*; do
    [[ $f == *.exe ]] || echo "  <Override PartName=\"/tasks/ppalm/bin/$(basename "$f")\" ContentType=\"application/octet-stream\"/>"
  done
  echo '</Types>'
} >"$ext/[Content_Types].xml"
vsix="$PWD/dist/ppalm-$version.vsix"
(cd "$ext" && zip -q -X -r "$vsix" '[Content_Types].xml' extension.vsixmanifest extension.vsomanifest vss-extension.json tasks)
echo "wrote $vsix"
