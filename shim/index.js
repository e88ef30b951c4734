// Runs the ppalm binary for this machine as an Azure DevOps task (Node20_1,
// Node24 handlers) or a GitHub Action (runs.using: node24).
//
// Only Node built-ins: azure-pipelines-task-lib deletes INPUT_*, ENDPOINT_AUTH_*
// and SECRET_* from process.env when it loads, and the binary needs them.
// VSIX packages are zip files and lose the executable bit, so it is restored
// before the binary runs. The environment, stdio and exit code pass through
// unchanged; ppalm itself prints the host's logging commands.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const OS = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const ARCH = { x64: 'amd64', arm64: 'arm64' };

function binaryPath(dir, platform, arch) {
  const goos = OS[platform];
  const goarch = ARCH[arch];
  if (!goos || !goarch) {
    return { error: `ppalm has no binary for ${platform}/${arch}: supported are linux, darwin and windows on x64 and arm64` };
  }
  const name = `ppalm-${goos}-${goarch}${goos === 'windows' ? '.exe' : ''}`;
  return { file: path.join(dir, 'bin', name) };
}

// fail reports a shim error the way the host shows it, then exits 1.
function fail(msg) {
  const line = msg.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  if (process.env.GITHUB_ACTIONS === 'true') {
    console.log(`::error::${line}`);
  } else if (process.env.TF_BUILD) {
    const ado = msg.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
      .replace(/]/g, '%5D').replace(/;/g, '%3B');
    console.log(`##vso[task.logissue type=error]${ado}`);
    console.log('##vso[task.complete result=Failed;]ppalm could not start');
  } else {
    console.error(`ppalm: ${msg}`);
  }
  process.exitCode = 1;
}

function run() {
  const dir = __dirname;
  const found = binaryPath(dir, process.platform, process.arch);
  if (found.error) {
    return fail(found.error);
  }
  if (!fs.existsSync(found.file)) {
    return fail(`ppalm binary not found at ${found.file}: this copy of the task or action has no binaries; use a release (built by scripts/dist.sh)`);
  }
  if (process.platform !== 'win32') {
    try {
      fs.chmodSync(found.file, 0o755);
    } catch (err) {
      return fail(`make ${found.file} executable: ${err.message}`);
    }
  }
  const child = spawnSync(found.file, [], { stdio: 'inherit', env: process.env, windowsHide: true });
  if (child.error) {
    return fail(`run ${found.file}: ${child.error.message}`);
  }
  if (child.signal) {
    return fail(`ppalm was stopped by signal ${child.signal}`);
  }
  process.exitCode = child.status === null ? 1 : child.status;
}

module.exports = { binaryPath, run };

if (require.main === module) {
  run();
}
