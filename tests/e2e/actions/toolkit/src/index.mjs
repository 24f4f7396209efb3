// main of the toolkit action: @actions/core's inputs, outputs, env, path, state and summary, and
// @actions/github's context and Octokit. Importing @actions/github loads undici (its HTTP parser,
// llhttp, is WebAssembly); the Octokit request goes through undici's fetch and the job's proxy to
// the runner's cache server, which answers an unknown token with 401.
import * as core from '@actions/core';
import * as github from '@actions/github';

async function run() {
    const who = core.getInput('who', { required: true });
    core.setOutput('greeting', `hello ${who}`);
    core.exportVariable('TOOLKIT_EXPORTED', `exported for ${who}`);
    core.addPath('/toolkit/added/bin');
    core.saveState('started', `state for ${who}`);
    const { owner, repo } = github.context.repo;
    const { sha, eventName } = github.context;
    core.info(`context repo=${owner}/${repo} sha=${sha} event=${eventName}`);
    await core.summary.addHeading('Toolkit fixture').addRaw(`summary for ${who}`, true).write();

    const baseUrl = process.env.ACTIONS_CACHE_URL.replace(/\/$/, '');
    const octokit = github.getOctokit('not-the-runtime-token', { baseUrl });
    try {
        await octokit.request('GET /_apis/artifactcache/cache', { keys: 'k', version: '1' });
        core.info('octokit status=2xx');
    } catch (e) {
        core.info(`octokit status=${e.status} message=${e.message}`);
    }
}

run().catch((e) => core.setFailed(`toolkit main: ${e.stack || e}`));
