// The e2e fixture for the runner's v4 artifact server: the real @actions/artifact 2.x client
// (DefaultArtifactClient, as upload-artifact@v4 / download-artifact@v4 use it), required from
// NODE_PATH (build/npm-artifact/node_modules, installed by .ci/test).
// upload: writes a tree (a 9 MiB incompressible file, so the zip goes up in two 8 MiB blocks, and
// two small files), uploads it and prints the sha256 of each file. download: lists the run's
// artifacts, finds this one by name, downloads and unzips it and prints the same digests; with
// `delete: true` it then deletes it and lists again.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// @actions/artifact 2.x refuses, before any request, every GITHUB_SERVER_URL that is not
// github.com, *.ghe.com or *.localhost ("not supported on GHES"). The runner's server speaks the
// API whatever the server URL, so the fixture runs as on github.com.
process.env.GITHUB_SERVER_URL = 'https://github.com';

const { DefaultArtifactClient } = require('@actions/artifact');

function sha(file) {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
}

function input(name) {
    return (process.env[`INPUT_${name.toUpperCase()}`] || '').trim();
}

function printDigests(root, files) {
    for (const f of files) console.log(`file ${f} ${sha(path.join(root, f))}`);
}

const files = ['big.bin', 'notes.txt', 'sub/dir/deep.txt'];

async function upload(client, name) {
    const root = path.join(process.env.RUNNER_TEMP || process.cwd(), 'v4-upload');
    fs.mkdirSync(path.join(root, 'sub/dir'), { recursive: true });
    fs.writeFileSync(path.join(root, 'big.bin'), crypto.randomBytes(9 * 1024 * 1024));
    fs.writeFileSync(path.join(root, 'notes.txt'), 'small v4 notes\n');
    fs.writeFileSync(path.join(root, 'sub/dir/deep.txt'), `deep ${Date.now()}\n`);
    const res = await client.uploadArtifact(name, files.map(f => path.join(root, f)), root);
    console.log(`uploaded id=${res.id} size=${res.size} digest=${res.digest ? 'yes' : 'no'}`);
    printDigests(root, files);
}

async function download(client, name) {
    const { artifacts } = await client.listArtifacts();
    console.log(`listed ${artifacts.map(a => `${a.name}:${a.size}`).join(',')}`);
    const { artifact } = await client.getArtifact(name);
    const dir = path.join(process.env.RUNNER_TEMP || process.cwd(), 'v4-download');
    const res = await client.downloadArtifact(artifact.id, {
        path: dir,
        expectedHash: artifact.digest,
    });
    console.log(`downloaded id=${artifact.id} digestMismatch=${res.digestMismatch}`);
    printDigests(dir, files);
    if (input('delete') !== 'true') return;
    await client.deleteArtifact(name);
    const after = await client.listArtifacts();
    console.log(`after deleting ${name}: ${after.artifacts.map(a => a.name).join(',')}`);
}

async function main() {
    const client = new DefaultArtifactClient();
    const name = input('name') || 'v4-dist';
    if (input('mode') === 'upload') await upload(client, name);
    else if (input('mode') === 'download') await download(client, name);
    else throw new Error(`mode must be upload or download, not '${input('mode')}'`);
}

main().catch(err => {
    console.log(`::error::artifact-v4 ${input('mode')} failed: ${err.stack || err}`);
    process.exitCode = 1;
});
